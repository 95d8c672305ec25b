package tomcat

import (
	"archive/zip"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth/internal/testenv"
)

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeJar makes a lib/catalina.jar whose ServerInfo.properties (or manifest) says version.
func writeJar(t *testing.T, path, version string, manifestOnly bool) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, _ := zw.Create("META-INF/MANIFEST.MF")
	w.Write([]byte("Manifest-Version: 1.0\r\nImplementation-Title: Apache Tomcat\r\nImplementation-Version: " + version + "\r\n"))
	if !manifestOnly {
		w, _ = zw.Create("org/apache/catalina/util/ServerInfo.properties")
		w.Write([]byte("server.info=Apache Tomcat/" + version + "\nserver.number=" + version + ".0\n"))
	}
	zw.Close()
	f.Close()
}

func TestDetect(t *testing.T) {
	cases := []struct {
		name                   string
		server, context, notes string
		jar                    string // version in lib/catalina.jar
		manifestOnly           bool
		state                  State
		files                  []string // relative to base
		clearable              bool
		version, reason        string
	}{
		{name: "jira shipped: pathname empty", server: "jira-server.xml", context: "context-default.xml",
			state: Off, clearable: true, reason: `pathname=""`},
		{name: "context.xml persists over server.xml pathname empty", server: "jira-server.xml", context: "context-persist.xml",
			state: On, files: []string{"work/Catalina/localhost/ROOT/SESSIONS.ser"}, clearable: true},
		{name: "no manager, tomcat 9 from RELEASE-NOTES", server: "confluence-server.xml", context: "context-default.xml", notes: "RELEASE-NOTES-9",
			state: On, version: "9.0.82", clearable: true,
			files: []string{"work/Standalone/localhost/wiki/SESSIONS.ser", "work/Standalone/localhost/${confluence.context.path}#synchrony-proxy/SESSIONS.ser"}},
		{name: "no manager, tomcat 10.1 from RELEASE-NOTES", server: "confluence-server.xml", notes: "RELEASE-NOTES-10",
			state: Off, version: "10.1.24", clearable: true},
		{name: "no manager, tomcat 10.1 from catalina.jar", server: "confluence-server.xml", jar: "10.1.60",
			state: Off, version: "10.1.60", clearable: true},
		{name: "no manager, tomcat 9 from the jar manifest", server: "confluence-server.xml", jar: "9.0.96", manifestOnly: true,
			state: On, version: "9.0.96", clearable: true, files: []string{"work/Standalone/localhost/wiki/SESSIONS.ser",
				"work/Standalone/localhost/${confluence.context.path}#synchrony-proxy/SESSIONS.ser"}},
		{name: "no manager, version unknown", server: "confluence-server.xml", state: Unknown, clearable: true, reason: "version is unknown"},
		{name: "persistent manager", server: "jira-server.xml", context: "context-persistent-manager.xml", state: On, clearable: false, reason: "Store"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			copyFile(t, filepath.Join("testdata", tc.server), filepath.Join(base, "conf", "server.xml"))
			if tc.context != "" {
				copyFile(t, filepath.Join("testdata", tc.context), filepath.Join(base, "conf", "context.xml"))
			}
			if tc.notes != "" {
				copyFile(t, filepath.Join("testdata", tc.notes), filepath.Join(base, "RELEASE-NOTES"))
			}
			if tc.jar != "" {
				writeJar(t, filepath.Join(base, "lib", "catalina.jar"), tc.jar, tc.manifestOnly)
			}
			p, err := Detect(os.ReadFile, base)
			if err != nil {
				t.Fatal(err)
			}
			if p.State != tc.state || p.Clearable != tc.clearable || p.Version != tc.version {
				t.Errorf("got %+v", p)
			}
			var want []string
			for _, f := range tc.files {
				want = append(want, filepath.Join(base, f))
			}
			if strings.Join(p.Files, "|") != strings.Join(want, "|") {
				t.Errorf("files = %q, want %q", p.Files, want)
			}
			if !strings.Contains(p.Reason, tc.reason) {
				t.Errorf("reason %q lacks %q", p.Reason, tc.reason)
			}
		})
	}
}

// Debian's tomcat10 package: server.xml declares no Context and context.xml's Manager is commented
// out; Tomcat 10.1 then keeps no sessions on disk.
func TestDetectDebianTomcat10(t *testing.T) {
	if _, err := os.Stat("/etc/tomcat10/server.xml"); err != nil {
		testenv.Missing(t, "Debian's tomcat10 package (.ci/services.sh installs it)")
	}
	p, err := Detect(os.ReadFile, "/var/lib/tomcat10", "/usr/share/tomcat10")
	if err != nil {
		t.Fatal(err)
	}
	if p.State != Off || !strings.HasPrefix(p.Version, "10.1.") {
		t.Errorf("got %+v", p)
	}
	// The same files with the commented-out Manager enabled: on, for every webapp.
	base := t.TempDir()
	copyFile(t, "/etc/tomcat10/server.xml", filepath.Join(base, "conf", "server.xml"))
	ctx, err := os.ReadFile("/etc/tomcat10/context.xml")
	if err != nil {
		t.Fatal(err)
	}
	enabled := strings.Replace(strings.Replace(string(ctx), "<!--\n    <Manager", "<Manager", 1), "/>\n    -->", "/>", 1)
	if enabled == string(ctx) {
		t.Fatal("Debian context.xml changed shape: no commented-out Manager found")
	}
	os.WriteFile(filepath.Join(base, "conf", "context.xml"), []byte(enabled), 0o644)
	p, err = Detect(os.ReadFile, base, "/usr/share/tomcat10")
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(base, "work/Catalina/localhost/*/SESSIONS.ser")
	if p.State != On || len(p.Files) != 1 || p.Files[0] != want {
		t.Errorf("enabled: got %+v, want file %s", p, want)
	}
}

func TestDetectErrors(t *testing.T) {
	base := t.TempDir()
	if _, err := Detect(os.ReadFile, base); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "server.xml") {
		t.Errorf("missing server.xml: %v", err)
	}
	os.MkdirAll(filepath.Join(base, "conf"), 0o755)
	os.WriteFile(filepath.Join(base, "conf", "server.xml"), []byte("<Server><Service></Server>"), 0o644)
	if _, err := Detect(os.ReadFile, base); err == nil || !strings.Contains(err.Error(), "parse") {
		t.Errorf("broken server.xml: %v", err)
	}
}

func TestAppName(t *testing.T) {
	for in, want := range map[string]string{"": "ROOT", "/": "ROOT", "/jira": "jira", "/a/b": "a#b"} {
		if got := appName(in); got != want {
			t.Errorf("appName(%q) = %q, want %q", in, got, want)
		}
	}
}

// debianConf copies Debian's real tomcat10 conf/server.xml and conf/context.xml into a new base,
// context.xml's commented-out <Manager> enabled when persist is true. It returns the base and the
// line of the <Manager> in the new context.xml.
func debianConf(t *testing.T, persist bool) (string, int) {
	t.Helper()
	if _, err := os.Stat("/etc/tomcat10/server.xml"); err != nil {
		testenv.Missing(t, "Debian's tomcat10 package (.ci/services.sh installs it)")
	}
	base := t.TempDir()
	copyFile(t, "/etc/tomcat10/server.xml", filepath.Join(base, "conf", "server.xml"))
	ctx, err := os.ReadFile("/etc/tomcat10/context.xml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(ctx)
	if persist {
		s = strings.Replace(strings.Replace(s, "<!--\n    <Manager", "<Manager", 1), "/>\n    -->", "/>", 1)
		if s == string(ctx) {
			t.Fatal("Debian context.xml changed shape: no commented-out Manager found")
		}
	}
	os.WriteFile(filepath.Join(base, "conf", "context.xml"), []byte(s), 0o644)
	line := 0
	for i, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "<Manager") {
			line = i + 1
		}
	}
	return base, line
}

// The refusal's advice names the file and line that turned persistence on, and the right fix for
// each place: conf/context.xml (overrides server.xml: remove or blank it there), server.xml's own
// <Manager> (blank its pathname), no <Manager> at all on an old Tomcat (add one).
func TestFixNamesFileAndLine(t *testing.T) {
	t.Run("context.xml over server.xml's pathname empty", func(t *testing.T) {
		base, line := debianConf(t, true)
		// Jira's server.xml, whose <Context> already says <Manager pathname=""/>.
		copyFile(t, filepath.Join("testdata", "jira-server.xml"), filepath.Join(base, "conf", "server.xml"))
		p, err := Detect(os.ReadFile, base, "/usr/share/tomcat10")
		if err != nil {
			t.Fatal(err)
		}
		at := fmt.Sprintf("%s:%d", filepath.Join(base, "conf", "context.xml"), line)
		if p.State != On || !strings.Contains(p.Fix, "remove the <Manager> at "+at) || !strings.Contains(p.Fix, `pathname=""`) {
			t.Fatalf("fix %q, want the <Manager> at %s removed or blanked", p.Fix, at)
		}
		if strings.Contains(p.Fix, "add <Manager") || strings.Contains(p.Fix, "server.xml:") {
			t.Errorf("fix %q points at server.xml, which already has pathname=\"\"", p.Fix)
		}
		if len(p.Where) != 1 || p.Where[0] != at {
			t.Errorf("where %q, want [%s]", p.Where, at)
		}
	})
	t.Run("server.xml's own Manager persists", func(t *testing.T) {
		base, _ := debianConf(t, false)
		b, err := os.ReadFile(filepath.Join("testdata", "jira-server.xml"))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.Replace(string(b), `<Manager pathname=""/>`, `<Manager pathname="SESSIONS.ser"/>`, 1)
		os.WriteFile(filepath.Join(base, "conf", "server.xml"), []byte(s), 0o644)
		p, err := Detect(os.ReadFile, base, "/usr/share/tomcat10")
		if err != nil {
			t.Fatal(err)
		}
		at := filepath.Join(base, "conf", "server.xml") + ":16"
		if p.State != On || p.Fix != `set pathname="" on the existing <Manager> at `+at {
			t.Fatalf("fix %q, want pathname=\"\" set on the <Manager> at %s", p.Fix, at)
		}
	})
	t.Run("no Manager on Tomcat 9", func(t *testing.T) {
		base, _ := debianConf(t, false)
		copyFile(t, filepath.Join("testdata", "confluence-server.xml"), filepath.Join(base, "conf", "server.xml"))
		copyFile(t, filepath.Join("testdata", "RELEASE-NOTES-9"), filepath.Join(base, "RELEASE-NOTES"))
		p, err := Detect(os.ReadFile, base)
		if err != nil {
			t.Fatal(err)
		}
		want := `add <Manager pathname=""/> inside the <Context path="/wiki"> at ` + filepath.Join(base, "conf", "server.xml") + ":9"
		if p.State != On || !strings.Contains(p.Fix, want) {
			t.Fatalf("fix %q, want %q", p.Fix, want)
		}
	})
	t.Run("off: no fix", func(t *testing.T) {
		base, _ := debianConf(t, false)
		p, err := Detect(os.ReadFile, base, "/usr/share/tomcat10")
		if err != nil {
			t.Fatal(err)
		}
		if p.State != Off || p.Fix != "" || p.Where != nil {
			t.Errorf("got %+v", p)
		}
	})
}

// Debian's split layout: catalina.jar is in /usr/share/tomcat10 (CATALINA_HOME), the config in
// CATALINA_BASE. The version is found through CATALINA_HOME from setenv.sh, the running process or
// the systemd unit; when none says, the advice names exactly what to set.
func TestCatalinaHomeDebianSplit(t *testing.T) {
	if _, err := os.Stat("/usr/share/tomcat10/lib/catalina.jar"); err != nil {
		testenv.Missing(t, "Debian's tomcat10 package (.ci/services.sh installs it)")
	}
	t.Run("systemd unit of the real package", func(t *testing.T) {
		home, src := CatalinaHome(os.ReadFile, "/var/lib/tomcat10", true)
		if home != "/usr/share/tomcat10" || !strings.HasSuffix(src, "tomcat10.service") {
			t.Fatalf("home %q from %q", home, src)
		}
		if home, _ := CatalinaHome(os.ReadFile, "/var/lib/tomcat10", false); home != "" {
			t.Errorf("not local: the unit of this machine must not be read (got %q)", home)
		}
		p, err := Detect(os.ReadFile, "/var/lib/tomcat10", home)
		if err != nil || p.State != Off || !strings.HasPrefix(p.Version, "10.1.") {
			t.Fatalf("got %+v, %v", p, err)
		}
	})
	t.Run("unknown: says what to set", func(t *testing.T) {
		base, _ := debianConf(t, false)
		copyFile(t, filepath.Join("testdata", "confluence-server.xml"), filepath.Join(base, "conf", "server.xml"))
		if home, _ := CatalinaHome(os.ReadFile, base, true); home != "" {
			t.Fatalf("home %q for a base nothing names", home)
		}
		p, err := Detect(os.ReadFile, base)
		if err != nil {
			t.Fatal(err)
		}
		setenv := filepath.Join(base, "bin", "setenv.sh")
		if p.State != Unknown || !strings.Contains(p.Fix, "set CATALINA_HOME") || !strings.Contains(p.Fix, setenv) {
			t.Fatalf("got %+v: want the fix to say to set CATALINA_HOME in %s", p, setenv)
		}
		// Set as the advice says: the version is found.
		os.MkdirAll(filepath.Join(base, "bin"), 0o755)
		os.WriteFile(setenv, []byte("# site settings\nexport CATALINA_HOME=\"/usr/share/tomcat10\"\nJAVA_OPTS=\"$JAVA_OPTS -Xmx2g\"\n"), 0o644)
		home, src := CatalinaHome(os.ReadFile, base, false)
		if home != "/usr/share/tomcat10" || src != setenv {
			t.Fatalf("home %q from %q", home, src)
		}
		if p, err = Detect(os.ReadFile, base, home); err != nil || p.State != Off || !strings.HasPrefix(p.Version, "10.1.") {
			t.Fatalf("got %+v, %v", p, err)
		}
	})
	t.Run("running process", func(t *testing.T) {
		base := t.TempDir()
		// A real process with Tomcat's command line (catalina.sh passes both properties to java).
		cmd := exec.Command("sh", "-c", "sleep 30", "-Dcatalina.base="+base, "-Dcatalina.home=/usr/share/tomcat10")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		home, src := CatalinaHome(os.ReadFile, base, true)
		if home != "/usr/share/tomcat10" || src != fmt.Sprintf("/proc/%d/cmdline (-Dcatalina.home)", cmd.Process.Pid) {
			t.Fatalf("home %q from %q", home, src)
		}
	})
}
