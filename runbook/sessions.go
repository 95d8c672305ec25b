package runbook

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/rollout"
)

// strategy is the restart strategy: --restart-strategy, else the inventory's restart.strategy,
// else rolling.
func (u *unit) strategy() string {
	if u.o.RestartStrategy != "" {
		return u.o.RestartStrategy
	}
	if u.inv.RestartStrategy != "" {
		return u.inv.RestartStrategy
	}
	return rollout.StrategyRolling
}

// sessionSetting is one place that sets Bitbucket's hazelcast.http.sessions.
type sessionSetting struct{ mode, source string }

// templateEnv is a restart method that knows the env its nodes start with (kube.PodRestarter: the
// StatefulSet's pod template), where the image reads HAZELCAST_HTTP_SESSIONS from.
type templateEnv interface {
	TemplateEnv() (env map[string]string, source string)
}

// hazelcastSessions finds Bitbucket's hazelcast.http.sessions: the inventory's
// hazelcast_http_sessions when given (the operator's word wins); else every place reauth can read:
// the shared bitbucket.properties, HAZELCAST_HTTP_SESSIONS or -Dhazelcast.http.sessions in each
// node's setenv scripts, in the StatefulSet's pod template on Kubernetes and, for nodes on this
// machine, in the running process's environment and command line. Which of the file and the environment wins is UNCONFIRMED, so any
// clustered value counts (the pessimistic reading). read names the places read, set or not:
// none means nothing was checked, which is not the same as the default.
func (u *unit) hazelcastSessions(ctx context.Context) (clustered bool, found []sessionSetting, read []string, err error) {
	if m := u.inv.HazelcastHTTPSessions; m != "" {
		s := sessionSetting{m, fmt.Sprintf("the inventory's hazelcast_http_sessions (product at line %d)", u.inv.Line)}
		return atlassian.HazelcastSessionsClustered(m), []sessionSetting{s}, []string{s.source}, nil
	}
	home := u.o.Inventory.Resolve(u.inv.Home)
	if home != "" {
		file := filepath.Join(home, filepath.FromSlash(u.prod.ConfigFile))
		b, err := os.ReadFile(file)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			read = append(read, file+" (absent)")
		case err != nil:
			return false, nil, nil, fmt.Errorf("read %s for %s: %w", file, atlassian.HazelcastSessionsKey, err)
		default:
			read = append(read, file)
			m, ok, err := atlassian.HazelcastSessionsFromProperties(b)
			if err != nil {
				return false, nil, nil, fmt.Errorf("read %s: %w", file, err)
			}
			if ok {
				found = append(found, sessionSetting{m, file})
			}
		}
	}
	for _, n := range u.rplan.Nodes {
		f, r := nodeSessionSettings(ctx, n, home)
		found, read = append(found, f...), append(read, r...)
	}
	for _, s := range found {
		if atlassian.HazelcastSessionsClustered(s.mode) {
			clustered = true
		}
	}
	return clustered, unique(found), unique(read), nil
}

// nodeSessionSettings is what one node's scripts, its pod template (Kubernetes) and, for a node on
// this machine, its running process say of hazelcast.http.sessions: HAZELCAST_HTTP_SESSIONS, and
// -Dhazelcast.http.sessions in JVM_SUPPORT_RECOMMENDED_ARGS or JAVA_OPTS, which reach the JVM as a
// system property. read names the places read, set or not.
func nodeSessionSettings(ctx context.Context, n rollout.Node, home string) (found []sessionSetting, read []string) {
	const key, envName = atlassian.HazelcastSessionsKey, atlassian.HazelcastSessionsEnv
	if fa, ok := n.Restarter.(rollout.FileAccess); ok && n.Install != "" {
		for _, script := range []string{"setenv.sh", "set-bitbucket-home.sh"} {
			p := path.Join(n.Install, "bin", script)
			b, err := fa.ReadFile(ctx, p)
			if err != nil {
				continue
			}
			read = append(read, p+" ("+n.Name+")")
			if m, ok := atlassian.ShellVar(b, envName); ok {
				found = append(found, sessionSetting{m, fmt.Sprintf("%s in %s (%s)", envName, p, n.Name)})
			}
			if m, ok := atlassian.JVMProperty(b, key); ok {
				found = append(found, sessionSetting{m, fmt.Sprintf("-D%s in %s (%s)", key, p, n.Name)})
			}
		}
	}
	if te, ok := n.Restarter.(templateEnv); ok {
		env, src := te.TemplateEnv()
		read = append(read, src)
		if m, ok := env[envName]; ok {
			found = append(found, sessionSetting{m, fmt.Sprintf("%s in %s", envName, src)})
		}
	}
	if n.Restarter.Method() != "exec" || home == "" {
		return found, read
	}
	var args []string
	env, src := atlassian.ProcessEnv("/proc", func(a []string, env map[string]string) bool {
		if env["BITBUCKET_HOME"] == "" || filepath.Clean(env["BITBUCKET_HOME"]) != filepath.Clean(home) {
			return false
		}
		args = a
		return true
	})
	if src != "" {
		read = append(read, "the environment of "+src)
	}
	if m, ok := env[envName]; ok {
		found = append(found, sessionSetting{m, fmt.Sprintf("%s in the environment of the process with BITBUCKET_HOME=%s (%s)", envName, home, src)})
	}
	if m, ok := atlassian.JVMPropertyArgs(args, key); ok {
		found = append(found, sessionSetting{m, fmt.Sprintf("-D%s on the command line of the process with BITBUCKET_HOME=%s (%s)",
			key, home, path.Join(path.Dir(src), "cmdline"))})
	}
	return found, read
}

// unique is in without repeats, in first-seen order.
func unique[T comparable](in []T) []T {
	seen := map[T]bool{}
	var out []T
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// checkClusterSessions refuses a rolling restart of a Bitbucket whose HTTP sessions live in the
// cluster's Hazelcast map (sticky or replicated): the map lives as long as one node is up, so no
// session would end. A full stop ends them (every node down at once).
func (u *unit) checkClusterSessions(ctx context.Context) error {
	if u.prod.ID != atlassian.Bitbucket {
		return nil
	}
	clustered, found, read, err := u.hazelcastSessions(ctx)
	if err != nil {
		return reauth.Refused("make the file readable, or state the setting with hazelcast_http_sessions in the inventory", "%v", err)
	}
	if len(read) == 0 {
		u.report.Sessions = atlassian.HazelcastSessionsKey + " not checked: reauth could read no place that sets it (no home:, no node files or env)"
		u.report.Warnings = append(u.report.Warnings, fmt.Sprintf("Bitbucket's %s was not checked: if it is sticky or replicated, a rolling "+
			"restart leaves every session alive; state it with hazelcast_http_sessions in the inventory, or give home:", atlassian.HazelcastSessionsKey))
		return nil
	}
	var where []string
	for _, s := range found {
		if atlassian.HazelcastSessionsClustered(s.mode) || !clustered {
			where = append(where, fmt.Sprintf("%s=%s in %s", atlassian.HazelcastSessionsKey, s.mode, s.source))
		}
	}
	if len(where) == 0 {
		where = []string{fmt.Sprintf("%s=local by default (BSERV-13407): set nowhere reauth read (%s)", atlassian.HazelcastSessionsKey, strings.Join(read, ", "))}
	}
	if !clustered {
		u.report.Sessions = "node-local HTTP sessions: " + strings.Join(where, "; ")
		return nil
	}
	u.report.Sessions = "HTTP sessions in the cluster's Hazelcast map: " + strings.Join(where, "; ")
	if u.strategy() == rollout.StrategyFull {
		u.report.Warnings = append(u.report.Warnings, fmt.Sprintf("Bitbucket keeps HTTP sessions in the cluster's Hazelcast map (%s): "+
			"every node is stopped before any starts, so that the map goes with the last node", strings.Join(where, "; ")))
		return nil
	}
	hint := fmt.Sprintf("run with --restart-strategy full (or restart: {strategy: full} in the inventory): every node stopped, "+
		"then started, the product down meanwhile; or set %s=local (the default) where it is set, so that each node restarts with "+
		"node-local sessions", atlassian.HazelcastSessionsKey)
	if fix := rollout.StopStartFix(u.rplan); fix != "" {
		// The full strategy refuses nodes with one restart command: the whole fix, at once.
		hint += ". The full strategy needs separate stop and start commands, not one restart command: " + fix
	}
	return reauth.Refused(hint,
		"Bitbucket keeps HTTP sessions in the cluster's Hazelcast map (%s): a rolling restart leaves them alive, since the map "+
			"lives as long as one node is up", strings.Join(where, "; "))
}
