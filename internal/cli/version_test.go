package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

func TestVersionJSON(t *testing.T) {
	code, out, _ := runCLI(t, nil, "version", "--json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	for _, k := range []string{"version", "commit", "modified", "build_date", "go_version", "platform", "engines", "restart_methods"} {
		if _, ok := v[k]; !ok {
			t.Errorf("--json lacks %q: %s", k, out)
		}
	}
	if v["go_version"] != runtime.Version() || v["platform"] != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("go = %v %v", v["go_version"], v["platform"])
	}
	if e, _ := v["engines"].([]any); len(e) != 5 || e[0] != "postgres" || e[4] != "oracle" {
		t.Errorf("engines = %v", v["engines"])
	}
	if m, _ := v["restart_methods"].([]any); len(m) != 3 || m[0] != "exec" || m[1] != "ssh" || m[2] != "kubernetes" {
		t.Errorf("restart_methods = %v", v["restart_methods"])
	}
}

func TestVersionText(t *testing.T) {
	code, out, _ := runCLI(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "reauth ") || !strings.Contains(out, "restart methods: exec, ssh, kubernetes") ||
		!strings.Contains(out, "engines:         postgres, mysql, mariadb, sqlserver, oracle") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if code, _, _ := runCLI(t, nil, "version", "extra"); code != 2 {
		t.Errorf("an argument: exit %d, want 2", code)
	}
}

// What the release stamps wins; what it did not stamp comes from the toolchain's build info.
func TestVersionOfStampAndFallback(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.99", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-12-01T00:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	read := func() (*debug.BuildInfo, bool) { return bi, true }

	v := versionOf(stamp{version: "2.0.0", commit: "fff", date: "2026-12-02T03:04:05Z"}, read)
	if v.Version != "2.0.0" || v.Commit != "fff" || v.BuildDate != "2026-12-02T03:04:05Z" || v.Modified {
		t.Errorf("stamped: %+v", v)
	}
	v = versionOf(stamp{version: defaultVersion}, read)
	if v.Version != "1.2.3" || v.Commit != "abc123" || v.BuildDate != "2026-12-01T00:00:00Z" || !v.Modified || v.GoVersion != "go1.99" {
		t.Errorf("go install / go build: %+v", v)
	}
	bi.Main.Version = "(devel)"
	if v = versionOf(stamp{version: defaultVersion}, read); v.Version != defaultVersion {
		t.Errorf("devel build: %q", v.Version)
	}
	v = versionOf(stamp{}, func() (*debug.BuildInfo, bool) { return nil, false })
	if v.Version != defaultVersion || v.Commit != "" || v.GoVersion != runtime.Version() {
		t.Errorf("no build info: %+v", v)
	}
}

func TestCompiledEngines(t *testing.T) {
	got := compiledEngines([]string{"pgx", "oracle", "sqlite"})
	if !slices.Equal(got, []string{"postgres", "oracle"}) {
		t.Errorf("engines = %v", got)
	}
}

// The man pages cover every visible command, with its flags, and not the hidden ones.
func TestManPages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "man1")
	code, _, errb := runCLI(t, nil, "man", "--dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	for _, page := range []string{"reauth.1", "reauth-run.1", "reauth-restart.1", "reauth-version.1", "reauth-sandbox-up.1"} {
		data, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), ".nh\n.TH \"REAUTH\" \"1\"") {
			t.Errorf("%s does not start as a man page: %.80q", page, data)
		}
	}
	run, _ := os.ReadFile(filepath.Join(dir, "reauth-run.1"))
	if !strings.Contains(string(run), `\fB--clear-persisted-sessions\fP`) {
		t.Errorf("reauth-run.1 lacks --clear-persisted-sessions")
	}
	if _, err := os.Stat(filepath.Join(dir, "reauth-man.1")); err == nil {
		t.Errorf("the hidden man command got a page")
	}
	if code, _, _ := runCLI(t, nil, "man"); code != 2 {
		t.Errorf("man without --dir: exit %d, want 2", code)
	}
	if code, _, _ := runCLI(t, nil, "--help"); code != 0 {
		t.Fatal(code)
	}
	if _, out, _ := runCLI(t, nil, "--help"); strings.Contains(out, "  man ") {
		t.Errorf("man is listed in --help")
	}
}
