package runbook_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
)

// --resume with no journal to continue is refused (exit 4), nothing changed: it used to start a
// new run silently.
func TestResumeWithoutJournalRefused(t *testing.T) {
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 1, Users: 2, RememberFraction: 1})
	cfg := writeInventory(t, t.TempDir(), product{c: c})
	pids := c.PIDs()
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--resume")
	if code != int(reauth.ExitRefused) || !strings.Contains(stderr, "nothing to resume") || !strings.Contains(stderr, "without --resume") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := c.PIDs(); fmt.Sprint(got) != fmt.Sprint(pids) {
		t.Fatalf("nodes restarted: %v -> %v", pids, got)
	}
}

// A run killed during its purge (here: a journal left as SIGKILL leaves it, phase purging and no
// count recorded) is resumed: the report counts every row deleted by both runs (read from the
// first run's backup), and the report and the audit log keep the first run's id.
func TestResumeKeepsRunIDAndTotals(t *testing.T) {
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 2, Users: 6, RememberFraction: 1})
	dir := t.TempDir()
	cfg := writeInventory(t, dir, product{c: c})
	setStartTimeout(t, cfg, "10s")
	if err := c.SetFault("node2", sandbox.FaultFailNextStart); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json")
	if code != int(reauth.ExitPartial) {
		t.Fatalf("first run exited %d\n%s\n%s", code, stdout, stderr)
	}
	var first struct {
		RunID   string `json:"run_id"`
		Deleted int64  `json:"deleted"`
	}
	decodeInto(t, stdout, &first)
	if first.Deleted == 0 || first.RunID == "" {
		t.Fatalf("first run: %s", stdout)
	}
	jp := stateDir(cfg).RunJournal(cfg, "jira")
	var j map[string]any
	b, err := os.ReadFile(jp)
	if err != nil || json.Unmarshal(b, &j) != nil {
		t.Fatalf("journal: %v %s", err, b)
	}
	j["phase"], j["deleted"], j["sha256"] = "purging", 0, nil // killed after its last batch, before recording it
	b, _ = json.Marshal(j)
	if err := os.WriteFile(jp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--resume", "--json")
	if code != 0 {
		t.Fatalf("resume exited %d\n%s\n%s", code, stdout, stderr)
	}
	var second struct {
		RunID   string `json:"run_id"`
		Deleted int64  `json:"deleted"`
	}
	decodeInto(t, stdout, &second)
	if second.RunID != first.RunID || second.Deleted != first.Deleted {
		t.Fatalf("resumed run: run id %q deleted %d; the run it continued: %q, %d", second.RunID, second.Deleted, first.RunID, first.Deleted)
	}
	f, err := os.Open(filepath.Join(dir, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct {
			RunID string `json:"run_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line.RunID != first.RunID {
			t.Fatalf("audit line with another run id: %s", sc.Text())
		}
	}
}
