package cli

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/report"
)

// TestRunEvidenceBundle: a real run on a sandbox with --ticket and --evidence writes a bundle
// whose SHA256SUMS match its files, whose CSV lists every account the purge deleted tokens of
// (the counts add up to what the run deleted), whose audit lines are this run's only, and whose
// manifest says the chain is intact. A non-empty --evidence directory is refused before anything.
func TestRunEvidenceBundle(t *testing.T) {
	c := sandboxtest.Up(t, sandbox.Options{Nodes: 1, Users: 5, StartupDelay: 300 * time.Millisecond})
	dir := filepath.Join(t.TempDir(), "evidence")
	code, out, errs := runBinary(t, "run", "--config", c.InventoryPath(), "--yes", "--mode", "restart", "--json",
		"--ticket", "INC-4711", "--reason", "cookies leaked", "--evidence", dir)
	if code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errs)
	}
	var rep struct {
		RunID    string                  `json:"run_id"`
		Deleted  int64                   `json:"deleted"`
		Incident struct{ Ticket string } `json:"incident"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Incident.Ticket != "INC-4711" {
		t.Fatalf("--json: %v %+v", err, rep)
	}
	sums, err := os.ReadFile(filepath.Join(dir, report.EvidenceSums))
	if err != nil {
		t.Fatal(err)
	}
	listed := 0
	for sc := bufio.NewScanner(strings.NewReader(string(sums))); sc.Scan(); listed++ {
		sum, name, _ := strings.Cut(sc.Text(), "  ")
		b, err := os.ReadFile(filepath.Join(dir, name))
		got := sha256.Sum256(b)
		if err != nil || hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s: %v, sha256 does not match SHA256SUMS", name, err)
		}
	}
	if listed != 5 {
		t.Errorf("SHA256SUMS lists %d files, want 5:\n%s", listed, sums)
	}
	f, _ := os.Open(filepath.Join(dir, report.EvidenceAccounts))
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	var total int64
	for _, r := range rows[1:] {
		n, _ := strconv.ParseInt(r[2], 10, 64)
		total += n
	}
	if err != nil || len(rows) < 6 || total != rep.Deleted {
		t.Errorf("CSV: %v, %d rows, %d tokens (the run deleted %d):\n%v", err, len(rows), total, rep.Deleted, rows)
	}
	lines, _ := os.ReadFile(filepath.Join(dir, report.EvidenceAudit))
	for _, l := range strings.Split(strings.TrimSpace(string(lines)), "\n") {
		if !strings.Contains(l, `"run_id":"`+rep.RunID+`"`) {
			t.Errorf("a line of another run in the bundle: %s", l)
		}
	}
	var m report.Evidence
	b, _ := os.ReadFile(filepath.Join(dir, report.EvidenceManifest))
	if err := json.Unmarshal(b, &m); err != nil || m.ChainBroken || m.Ticket != "INC-4711" || len(m.Incomplete) != 0 {
		t.Errorf("manifest: %v %+v", err, m)
	}
	if html, _ := os.ReadFile(filepath.Join(dir, report.EvidenceHTML)); !strings.Contains(string(html), `<dd id="ticket">INC-4711</dd>`) {
		t.Error("the bundle's report does not name the ticket")
	}

	before, _ := os.ReadFile(filepath.Join(dir, report.EvidenceSums))
	code, _, errs = runBinary(t, "run", "--config", c.InventoryPath(), "--yes", "--evidence", dir)
	if after, _ := os.ReadFile(filepath.Join(dir, report.EvidenceSums)); code != 2 || !strings.Contains(errs, "not empty") || string(after) != string(before) {
		t.Errorf("a non-empty --evidence: exit %d\n%s", code, errs)
	}
}
