package tomcat

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/reauth/reauth/atlassian"
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
		if v, ok := atlassian.ShellVar(b, "CATALINA_HOME"); ok {
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

// homeFromProc finds a running Tomcat of base in procRoot (/proc): catalina.sh passes
// -Dcatalina.base and -Dcatalina.home on the java command line; CATALINA_HOME may also be in its
// environment (readable only by its user).
func homeFromProc(procRoot, base string) (string, string) {
	want := filepath.Clean(base)
	var home string
	env, src := atlassian.ProcessEnv(procRoot, func(args []string, _ map[string]string) bool {
		gotBase := ""
		home = ""
		for _, a := range args {
			if v, ok := strings.CutPrefix(a, "-Dcatalina.base="); ok {
				gotBase = filepath.Clean(v)
			} else if v, ok := strings.CutPrefix(a, "-Dcatalina.home="); ok {
				home = v
			}
		}
		return gotBase == want
	})
	pid := filepath.Dir(src)
	switch {
	case src == "":
		return "", ""
	case home != "":
		return home, pid + "/cmdline (-Dcatalina.home)"
	case env["CATALINA_HOME"] != "":
		return env["CATALINA_HOME"], src
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
			if v, ok := atlassian.ShellVar(b, "CATALINA_BASE"); !ok || filepath.Clean(v) != want {
				continue
			}
			if v, ok := atlassian.ShellVar(b, "CATALINA_HOME"); ok {
				return v, u
			}
		}
	}
	return "", ""
}
