package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth/audit"
)

// writeChainedRun writes a small run with the real audit writer (so its lines are chained),
// with the incident context a run's start line carries.
func writeChainedRun(t *testing.T, path string) {
	t.Helper()
	l, err := audit.Open(path, "run-1", time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	steps := []struct {
		product, step, outcome string
		f                      map[string]any
	}{
		{"", "run", "started", map[string]any{"ticket": "INC-4711", "incident_reason": "cookies leaked", "reauth_version": "1.2.3 (commit abc)",
			"confirmed_by": "ops on /dev/pts/7", "inventories": []map[string]string{{"path": "/etc/reauth.yaml", "sha256": "f00d"}}}},
		{"jira", "plan", "ok", map[string]any{"name": "Jira", "mode": "restart"}},
		{"jira", "purge", "ok", map[string]any{"deleted": 3}},
		{"", "run", "done", map[string]any{"exit_code": 0}},
	}
	for _, s := range steps {
		if err := l.Step(s.product, s.step, s.outcome, s.f); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReportIncidentAndBrokenChain: the report names the ticket, reason, version, inventory
// digest and who confirmed; it says the chain is intact, and once a line is edited, that it is
// broken (in the report, --json and on stderr), still writing the report.
func TestReportIncidentAndBrokenChain(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.jsonl")
	writeChainedRun(t, log)
	md := filepath.Join(dir, "r.md")
	code, out, errs := runCLI(t, nil, "report", "--audit-log", log, "-o", md, "--json")
	var res reportResult
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || res.ChainBroken || !strings.HasPrefix(res.Integrity, "hash chain intact from line 1 to line 4") {
		t.Fatalf("intact log: exit %d %+v %v\n%s", code, res, err, errs)
	}
	b, _ := os.ReadFile(md)
	for _, want := range []string{"| Ticket | INC-4711 |", "| Reason | cookies leaked |", "| Confirmed by | ops on /dev/pts/7 |",
		"| reauth | `1.2.3 (commit abc)` |", "`/etc/reauth.yaml` sha256 `f00d`", "| Audit log | hash chain intact"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report lacks %q:\n%s", want, b)
		}
	}

	raw, _ := os.ReadFile(log)
	if err := os.WriteFile(log, []byte(strings.Replace(string(raw), `"deleted":3`, `"deleted":0`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCLI(t, nil, "report", "--audit-log", log, "-o", md, "--json")
	res = reportResult{}
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || !res.ChainBroken || !strings.Contains(res.Integrity, "line 4") {
		t.Fatalf("edited log: exit %d %+v %v", code, res, err)
	}
	if !strings.Contains(errs, "warning: audit log "+log+": BROKEN") {
		t.Errorf("stderr does not say the chain is broken: %s", errs)
	}
	if b, _ := os.ReadFile(md); !strings.Contains(string(b), "| Audit log | **BROKEN") {
		t.Errorf("the report does not say the chain is broken:\n%s", b)
	}
}
