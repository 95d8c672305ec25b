package atlassian

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
)

// Bitbucket Data Center keeps HTTP sessions where hazelcast.http.sessions (bitbucket.properties)
// says: "local" (the default, BSERV-13407) in each node's memory, so that a rolling restart ends
// them; "sticky" or "replicated" in the cluster's Hazelcast map, which lives as long as one node is
// up, so that a rolling restart leaves them alive. The official image maps environment variables to
// properties (upper case, dots as underscores: HAZELCAST_NETWORK_KUBERNETES, PLUGIN_SSH_PORT in the
// Helm chart), hence HAZELCAST_HTTP_SESSIONS.
const (
	HazelcastSessionsKey = "hazelcast.http.sessions"
	HazelcastSessionsEnv = "HAZELCAST_HTTP_SESSIONS"
	HazelcastLocal       = "local"
)

// HazelcastSessionsClustered reports whether mode keeps sessions in the cluster (they outlive a
// rolling restart). An unknown value counts as clustered: the pessimistic reading.
func HazelcastSessionsClustered(mode string) bool {
	return strings.ToLower(strings.TrimSpace(mode)) != HazelcastLocal
}

// HazelcastSessionsFromProperties reads hazelcast.http.sessions from bitbucket.properties.
func HazelcastSessionsFromProperties(data []byte) (string, bool, error) {
	props, err := ParseProperties(data)
	if err != nil {
		return "", false, err
	}
	v, ok := props[HazelcastSessionsKey]
	return strings.TrimSpace(v), ok, nil
}

// ProcessEnv finds a running process under procRoot (/proc) whose environment or command line
// match accepts, and returns its environment and the path it was read from. Only processes of
// reauth's own user (or every one, for root) show their environment.
func ProcessEnv(procRoot string, match func(args []string, env map[string]string) bool) (map[string]string, string) {
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, ""
	}
	for _, e := range entries {
		if strings.Trim(e.Name(), "0123456789") != "" {
			continue
		}
		dir := filepath.Join(procRoot, e.Name())
		cmdline, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil {
			continue
		}
		var args []string
		for _, a := range bytes.Split(bytes.TrimRight(cmdline, "\x00"), []byte{0}) {
			args = append(args, string(a))
		}
		env := map[string]string{}
		if b, err := os.ReadFile(filepath.Join(dir, "environ")); err == nil {
			for _, kv := range bytes.Split(b, []byte{0}) {
				if k, v, ok := strings.Cut(string(kv), "="); ok {
					env[k] = v
				}
			}
		}
		if match(args, env) {
			return env, filepath.Join(dir, "environ")
		}
	}
	return nil, ""
}

// ShellVar reads NAME=value (or export NAME=value) from a shell script or an environment file:
// the last plain assignment wins; quotes are removed; a value that expands something ($…, `…`)
// is not read.
func ShellVar(script []byte, name string) (string, bool) {
	val, found := "", false
	for _, line := range strings.Split(string(script), "\n") {
		line = strings.TrimSpace(line)
		line = strings.TrimPrefix(line, "export ")
		line = strings.TrimPrefix(line, "Environment=")
		line = strings.Trim(line, `"`)
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) != name {
			continue
		}
		v = strings.TrimSpace(v)
		if i := strings.Index(v, " #"); i >= 0 {
			v = strings.TrimSpace(v[:i])
		}
		v = strings.Trim(v, `"'`)
		if v == "" || strings.ContainsAny(v, "$`") {
			continue
		}
		val, found = v, true
	}
	return val, found
}

// JVMProperty finds -Dkey=value in a shell script (setenv.sh's JVM_SUPPORT_RECOMMENDED_ARGS="…
// -Dkey=v", JAVA_OPTS="$JAVA_OPTS -Dkey=v"): on any line that is not a comment, since every
// assignment of these variables ends up on the java command line. The last one wins, as on a java
// command line. A value that expands something ($…) is returned as written: it cannot be read, and
// HazelcastSessionsClustered counts it as clustered.
func JVMProperty(script []byte, key string) (string, bool) {
	val, found := "", false
	for _, line := range strings.Split(string(script), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if code, _, ok := strings.Cut(line, " #"); ok {
			line = code
		}
		if v, ok := lastJVMProperty(strings.Fields(line), key); ok {
			val, found = v, true
		}
	}
	return val, found
}

// JVMPropertyArgs finds -Dkey=value among a command line's arguments (the last one wins).
func JVMPropertyArgs(args []string, key string) (string, bool) { return lastJVMProperty(args, key) }

// lastJVMProperty reads the last -Dkey=value among words: a word of its own, or the first word of
// an assignment (JAVA_OPTS="-Dkey=v …" splits into JAVA_OPTS="-Dkey=v and the rest).
func lastJVMProperty(words []string, key string) (string, bool) {
	flag := "-D" + key + "="
	val, found := "", false
	for _, w := range words {
		i := strings.Index(w, flag)
		if i < 0 || (i > 0 && !strings.ContainsRune(`="'`, rune(w[i-1]))) {
			continue
		}
		val, found = strings.Trim(w[i+len(flag):], `"'`), true
	}
	return val, found
}
