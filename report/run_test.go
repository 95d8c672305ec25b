package report_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/cookiefile"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
)

// writeInventory writes a reauth.yaml for c into dir: short timeouts, the audit log in dir.
func writeInventory(t *testing.T, dir string, c *sandbox.Cluster, startTimeout string) string {
	t.Helper()
	return sandboxtest.WriteInventory(t, dir, startTimeout, sandboxtest.Product{Cluster: c})
}

// reauthCmd runs the real binary; it returns stdout, stderr and the exit code.
func reauthCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return testenv.Reauth(t, nil, args...)
}

func runID(t *testing.T, stdout string) string {
	t.Helper()
	var r struct {
		RunID string `json:"run_id"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil || r.RunID == "" {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	return r.RunID
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// cookieValues are the values of every cookie the sandbox's browsers hold: session ids and
// remember-me tokens (Jira's cookie is id:token), the secrets a report must never show.
func cookieValues(t *testing.T, c *sandbox.Cluster) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(c.BrowsersDir(), "*.cookies"))
	var out []string
	for _, f := range files {
		cs, err := cookiefile.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			out = append(out, c.Value)
			if _, tok, ok := strings.Cut(c.Value, ":"); ok {
				out = append(out, tok)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no cookie in the sandbox's browsers")
	}
	return out
}

// The report `reauth run --report` writes is byte for byte the one `reauth report` rebuilds from
// the audit log afterwards, and neither it nor the Markdown holds a token, cookie value or
// password. The run replays two browsers' cookies: the report says verified, with the proof.
func TestRunReportIsTheRebuiltReport(t *testing.T) {
	pg := testenv.Postgres(t)
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 3, DB: pg.URL, Users: 6, RememberFraction: 1})
	dir := t.TempDir()
	cfg := writeInventory(t, dir, c, "60s")
	var jar []cookiefile.Cookie
	for _, u := range []string{"user001", "user002"} {
		cs, err := cookiefile.Load(filepath.Join(c.BrowsersDir(), u+".cookies"))
		if err != nil {
			t.Fatal(err)
		}
		jar = append(jar, cs...)
	}
	jarPath := filepath.Join(dir, "cookies.txt")
	if err := cookiefile.Save(jarPath, jar); err != nil {
		t.Fatal(err)
	}
	during := filepath.Join(dir, "during.html")
	stdout, stderr, code := reauthCmd(t, "run", "--config", cfg, "--yes", "--mode", "restart", "--cookies", jarPath, "--report", during, "--json")
	if code != 0 {
		t.Fatalf("run exited %d\n%s\n%s", code, stdout, stderr)
	}
	id := runID(t, stdout)
	if !strings.Contains(stderr, "Evidence report: "+during+" (verified)") {
		t.Errorf("the run does not say where its report is:\n%s", stderr)
	}
	after, md := filepath.Join(dir, "after.html"), filepath.Join(dir, "after.md")
	for _, out := range []string{after, md} {
		if o, e, code := reauthCmd(t, "report", "--audit-log", filepath.Join(dir, "audit.jsonl"), "--run", id, "-o", out); code != 0 {
			t.Fatalf("report -o %s exited %d\n%s\n%s", out, code, o, e)
		}
	}
	html := read(t, during)
	if html != read(t, after) {
		t.Fatal("the report rebuilt from the audit log differs from the one the run wrote")
	}
	if st, _ := os.Stat(during); st.Mode().Perm() != 0o600 {
		t.Errorf("report mode %v, want 0600", st.Mode().Perm())
	}
	mdText := read(t, md)
	if !strings.Contains(html, `data-outcome="verified"`) || !strings.Contains(mdText, "**Outcome: verified**") {
		t.Errorf("not verified at the top:\n%s", mdText)
	}
	for _, n := range c.Nodes() {
		if !strings.Contains(html, `data-node="`+n.Name+`"`) || !strings.Contains(mdText, "| jira "+n.Name+" | down") {
			t.Errorf("node %s missing from the timeline", n.Name)
		}
	}
	if !strings.Contains(mdText, "accepted → rejected") {
		t.Errorf("no cookie accepted before and rejected after:\n%s", mdText)
	}
	admin, _ := c.AdminToken()
	secrets := append(cookieValues(t, c), pg.Pass, admin)
	for _, s := range secrets {
		if len(s) < 6 {
			continue // too short to grep for meaningfully
		}
		for name, text := range map[string]string{"html": html, "markdown": mdText} {
			if strings.Contains(text, s) {
				t.Errorf("the %s report holds a secret (%d chars)", name, len(s))
			}
		}
	}
}

// A run that stops at node2 (exit 3: node1 restarted, node2 did not come back, node3 untouched)
// still writes its report, and the report says failed, and why, at the top.
func TestFailedRunReportSaysSo(t *testing.T) {
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 3, Users: 4})
	dir := t.TempDir()
	cfg := writeInventory(t, dir, c, "12s")
	if err := c.SetFault("node2", sandbox.FaultFailNextStart); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "failed.md")
	stdout, stderr, code := reauthCmd(t, "run", "--config", cfg, "--yes", "--mode", "restart", "--report", path)
	if code != 3 {
		t.Fatalf("run exited %d, want 3\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "Evidence report: "+path+" (failed)") {
		t.Errorf("stdout does not name the report:\n%s", stdout)
	}
	md := read(t, path)
	top, _, _ := strings.Cut(md, "\n\n|")
	if !strings.Contains(top, "**Outcome: failed**: exit 3 (partial") || !strings.Contains(top, "node node2 failed") {
		t.Errorf("the top does not say the run failed at node2:\n%s", top)
	}
	for _, want := range []string{"| node1 | exec | restarted |", "| node2 | exec | failed |", "| node3 | exec | not touched |", "| jira node2 | **✕ failed"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

// A run that finished (exit 0) with no canary, no --cookies, no proof token (no proof_user or
// admin in this inventory) and no sampled tokens (--proof-sample 0) proved nothing at cookie
// level: the report says unproven at the top, and how to prove it.
func TestUnprovenRunReportSaysSo(t *testing.T) {
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 2, Users: 3})
	dir := t.TempDir()
	cfg := writeInventory(t, dir, c, "60s")
	path := filepath.Join(dir, "unproven.html")
	stdout, stderr, code := reauthCmd(t, "run", "--config", cfg, "--yes", "--mode", "restart", "--proof-sample", "0", "--report", path)
	if code != 0 {
		t.Fatalf("run exited %d\n%s\n%s", code, stdout, stderr)
	}
	html := read(t, path)
	if !strings.Contains(html, `data-outcome="unproven"><strong>unproven</strong> Jira: proof level tokens-only`) ||
		!strings.Contains(html, "set proof_user") || !strings.Contains(html, "pass --cookies") {
		t.Errorf("the top does not say unproven:\n%s", html[:min(len(html), 6000)])
	}
}
