package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// auditLines is a small audit log of two runs, as `reauth run` writes it.
const auditLines = `{"time":"2026-11-27T01:00:00Z","run_id":"run-old","operator":"ops","host":"h","product":"","step":"run","outcome":"started"}
{"time":"2026-11-27T01:00:05Z","run_id":"run-old","operator":"ops","host":"h","product":"","step":"run","outcome":"failed","exit_code":4,"error":"preflight failed"}
{"time":"2026-11-27T02:00:00Z","run_id":"run-new","operator":"ops","host":"h","product":"","step":"run","outcome":"started"}
{"time":"2026-11-27T02:00:01Z","run_id":"run-new","operator":"ops","host":"h","product":"jira","step":"plan","outcome":"ok","name":"Jira","mode":"restart","nodes":[{"name":"node1","method":"exec"}]}
{"time":"2026-11-27T02:00:09Z","run_id":"run-new","operator":"ops","host":"h","product":"","step":"run","outcome":"done","exit_code":0,"verified":true,"cookies_checked":0}
`

// reauth report: without --run it takes the last run and says so; the format follows the file
// name; bad input (unknown format, unknown run, a missing log, --report with --dry-run) is a usage
// error that writes nothing.
func TestReportVerb(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.jsonl")
	if err := os.WriteFile(log, []byte(auditLines), 0o600); err != nil {
		t.Fatal(err)
	}
	md := filepath.Join(dir, "r.md")
	code, out, errs := runCLI(t, nil, "report", "--audit-log", log, "-o", md, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	var res reportResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.RunID != "run-new" || res.Outcome != "unproven" || res.Report != md {
		t.Fatalf("--json: %v %+v", err, res)
	}
	if !strings.Contains(errs, "run run-new, the last run in") {
		t.Errorf("does not say which run it took: %s", errs)
	}
	b, _ := os.ReadFile(md)
	if !strings.HasPrefix(string(b), "# Forced re-login: Jira\n\n**Outcome: unproven**") {
		t.Errorf("markdown:\n%s", b)
	}
	html := filepath.Join(dir, "r.html")
	if code, _, errs := runCLI(t, nil, "report", "--audit-log", log, "--run", "run-old", "-o", html); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, _ = os.ReadFile(html)
	if !strings.Contains(string(b), `data-outcome="failed"><strong>failed</strong> exit 4 (refused): preflight failed`) {
		t.Errorf("html of the old run:\n%s", b)
	}
	cfg := filepath.Join(dir, "reauth.yaml")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "--audit-log", log, "-o", filepath.Join(dir, "r.pdf")}, "unknown format"},
		{[]string{"report", "--audit-log", log, "--run", "nope", "-o", filepath.Join(dir, "n.html")}, "run-new, run-old"},
		{[]string{"report", "--audit-log", filepath.Join(dir, "missing.jsonl"), "-o", filepath.Join(dir, "m.html")}, "no such file"},
		{[]string{"run", "--config", cfg, "--dry-run", "--report", filepath.Join(dir, "d.html")}, "a dry run does nothing"},
		{[]string{"run", "--config", cfg, "--report", filepath.Join(dir, "d.txt")}, "unknown format"},
	} {
		code, _, errs := runCLI(t, nil, c.args...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %s", c.args, code, errs)
		}
	}
	for _, f := range []string{"r.pdf", "n.html", "m.html", "d.html", "d.txt"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s was written", f)
		}
	}
}
