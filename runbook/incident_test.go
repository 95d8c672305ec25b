package runbook

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/reauth/reauth/audit"
)

// TestFakeIncidentContextReachesPlanAuditReportAndJSON: --ticket and --reason are in the plan,
// the run's start line of the audit log (whose chain is intact) and --json, with the version, the
// inventory's sha256 and who confirmed on which terminal (the report's side: report/incident_test.go).
func TestFakeIncidentContextReachesPlanAuditReportAndJSON(t *testing.T) {
	f := newFakeJob(t)
	o := f.options()
	o.Yes = false
	o.Confirm = func(string, string) (bool, error) { return true, nil }
	o.Incident = Incident{Ticket: "INC-4711", Reason: "session cookies leaked"}
	o.Version, o.TTY = "1.2.3 (commit abc)", "/dev/pts/7"
	rep, err := f.run(o)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, f.err.String())
	}
	if !strings.Contains(f.out.String(), "Incident INC-4711: session cookies leaked") {
		t.Errorf("the plan does not name the incident:\n%s", f.out.String())
	}
	raw, _ := os.ReadFile(f.inv.Path)
	sum := sha256.Sum256(raw)
	wantSum := hex.EncodeToString(sum[:])
	if rep.Incident == nil || *rep.Incident != o.Incident || rep.ReauthVersion != o.Version ||
		len(rep.Inventories) != 1 || rep.Inventories[0].SHA256 != wantSum {
		t.Errorf("--json: incident %+v, version %q, inventories %+v (want sha256 %s)", rep.Incident, rep.ReauthVersion, rep.Inventories, wantSum)
	}
	lf, err := os.Open(rep.AuditLog)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	es, ch, err := audit.ReadChain(lf)
	if err != nil || !ch.Intact() || ch.From != 1 {
		t.Fatalf("audit log: %v, chain %+v", err, ch)
	}
	var start struct {
		Ticket      string            `json:"ticket"`
		Reason      string            `json:"incident_reason"`
		Version     string            `json:"reauth_version"`
		ConfirmedBy string            `json:"confirmed_by"`
		Inventories []InventoryDigest `json:"inventories"`
	}
	b, _ := json.Marshal(es[0].Fields)
	if err := json.Unmarshal(b, &start); err != nil || es[0].Step != StepRun {
		t.Fatalf("start line %s: %v", b, err)
	}
	if start.Ticket != "INC-4711" || start.Reason != o.Incident.Reason || start.Version != o.Version ||
		!strings.HasSuffix(start.ConfirmedBy, " on /dev/pts/7") || len(start.Inventories) != 1 || start.Inventories[0].SHA256 != wantSum {
		t.Errorf("the run's start line: %+v", start)
	}
}
