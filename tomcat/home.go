package tomcat

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// CatalinaHome finds CATALINA_HOME (where lib/catalina.jar is) for the CATALINA_BASE base, when
// the two differ (Debian's tomcat10: base /var/lib/tomcat10, home /usr/share/tomcat10). It looks,
// in order, at base/bin/setenv.sh (read through read, so over SSH too), then, when local is true
// (the node runs on this machine), at a running Tomcat whose command line says
// -Dcatalina.base=base (its -Dcatalina.home, or CATALINA_HOME in its environment), then at the
// systemd units that set CATALINA_BASE=base. source says where home was found; both are "" when
// nothing says.
func CatalinaHome(read ReadFunc, base string, local bool) (home, source string) {
	setenv := path.Join(base, "bin", "setenv.sh")
	if b, err := read(setenv); err == nil {
		if v, ok := ShellVar(b, "CATALINA_HOME"); ok {
			return v, setenv
		}
	}
	if !local {
		return "", ""
	}
	if h, src := homeFromProc("/proc", base); h != "" {
		return h, src
	}
	return homeFromUnits([]string{"/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"}, base)
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

// homeFromProc finds a running Tomcat of base in procRoot (/proc): catalina.sh passes
// -Dcatalina.base and -Dcatalina.home on the java command line; CATALINA_HOME may also be in its
// environment (readable only by its user).
func homeFromProc(procRoot, base string) (string, string) {
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return "", ""
	}
	want := filepath.Clean(base)
	for _, e := range entries {
		if strings.Trim(e.Name(), "0123456789") != "" {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join(procRoot, e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := bytes.Split(cmdline, []byte{0})
		var gotBase, home string
		for _, a := range args {
			s := string(a)
			if v, ok := strings.CutPrefix(s, "-Dcatalina.base="); ok {
				gotBase = filepath.Clean(v)
			} else if v, ok := strings.CutPrefix(s, "-Dcatalina.home="); ok {
				home = v
			}
		}
		if gotBase != want {
			continue
		}
		pid := filepath.Join(procRoot, e.Name())
		if home != "" {
			return home, pid + "/cmdline (-Dcatalina.home)"
		}
		if env, err := os.ReadFile(filepath.Join(pid, "environ")); err == nil {
			if v, ok := ShellVar(bytes.ReplaceAll(env, []byte{0}, []byte{'\n'}), "CATALINA_HOME"); ok {
				return v, pid + "/environ"
			}
		}
	}
	return "", ""
}

// homeFromUnits reads the systemd units in dirs that set CATALINA_BASE=base (Debian's
// tomcat10.service) for their CATALINA_HOME.
func homeFromUnits(dirs []string, base string) (string, string) {
	want := filepath.Clean(base)
	for _, d := range dirs {
		units, _ := filepath.Glob(filepath.Join(d, "*.service"))
		for _, u := range units {
			b, err := os.ReadFile(u)
			if err != nil || !bytes.Contains(b, []byte("CATALINA_BASE")) {
				continue
			}
			if v, ok := ShellVar(b, "CATALINA_BASE"); !ok || filepath.Clean(v) != want {
				continue
			}
			if v, ok := ShellVar(b, "CATALINA_HOME"); ok {
				return v, u
			}
		}
	}
	return "", ""
}
