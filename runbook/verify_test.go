package runbook_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/cookiefile"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
)

// A canary logs in on every node before the purge; its cookies, and the cookies of an exported
// browser jar, are proven dead afterwards. `reauth verify` repeats the proof later and fails on a
// cookie that still works.
func TestRunCanaryCookiesAndVerify(t *testing.T) {
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Confluence, Nodes: 2, Users: 4, RememberFraction: 1})
	dir := t.TempDir()
	cfg := writeInventory(t, dir, product{c: c, canary: "user004"})
	jar := filepath.Join(c.BrowsersDir(), "user001.cookies")
	env := []string{"CANARY_PW=" + sandbox.UserPassword}
	stdout, stderr, code := reauthCmd(t, env, "run", "--config", cfg, "--yes", "--json", "--cookies", jar)
	if code != 0 {
		t.Fatalf("run exited %d\n%s\n%s", code, stdout, stderr)
	}
	r := decode(t, stdout)
	// user001's browser and the canary's session on each of the 2 nodes were valid before.
	if !r.Verified || r.SessionsBefore < 3 || r.SessionsValidAfter != 0 {
		t.Fatalf("verified=%v sessions before/after = %d/%d\n%s", r.Verified, r.SessionsBefore, r.SessionsValidAfter, stdout)
	}

	// The morning after: the same jar is still rejected.
	stdout, stderr, code = reauthCmd(t, nil, "verify", "--config", cfg, "--cookies", jar, "--json")
	if code != 0 || !strings.Contains(stdout, `"verified": true`) {
		t.Fatalf("verify exited %d\n%s\n%s", code, stdout, stderr)
	}

	// A browser that logged in after the run holds a live cookie: verify must say so and fail.
	fresh := sandbox.NewBrowser()
	if err := fresh.Login(t.Context(), c.Nodes()[0].URL, "user002", sandbox.UserPassword, true); err != nil {
		t.Fatal(err)
	}
	live := filepath.Join(dir, "live.cookies")
	if err := cookiefile.Save(live, fresh.Cookies()); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = reauthCmd(t, nil, "verify", "--config", cfg, "--cookies", live)
	if code == 0 || !strings.Contains(stdout, "still logs in") {
		t.Fatalf("verify with a live cookie exited %d\n%s\n%s", code, stdout, stderr)
	}
}

// `reauth demo --json` runs the whole job on a sandbox and reports it.
func TestDemoJSON(t *testing.T) {
	report := filepath.Join(t.TempDir(), "demo.html") // the demo's evidence report (default: in the temp dir)
	stdout, stderr, code := reauthCmd(t, nil, "demo", "--json", "--users", "12", "--report", report)
	if code != 0 {
		t.Fatalf("demo exited %d\n%s\n%s", code, stdout, stderr)
	}
	if st, err := os.Stat(report); err != nil || st.Size() == 0 || !strings.Contains(stdout, `"report": "`+report+`"`) {
		t.Errorf("demo report %s: %v\n%s", report, err, stdout)
	}
	var d struct {
		SessionsBefore     int    `json:"sessions_before"`
		SessionsValidAfter int    `json:"sessions_valid_after"`
		Deleted            int64  `json:"deleted"`
		NodesRestarted     int    `json:"nodes_restarted"`
		Verified           bool   `json:"verified"`
		ProofLevel         string `json:"proof_level"`
		CookiesReplayed    int    `json:"cookies_replayed"`
		FreshLoginWorks    bool   `json:"fresh_login_works"`
	}
	r := decodeInto(t, stdout, &d)
	_ = r
	if d.SessionsBefore != 12 || d.SessionsValidAfter != 0 || d.Deleted != 6 || d.NodesRestarted != 3 || !d.Verified || !d.FreshLoginWorks ||
		d.ProofLevel != "cookies" || d.CookiesReplayed != 7 { // the minted token and the 6 purged ones
		t.Fatalf("demo: %+v", d)
	}
}
