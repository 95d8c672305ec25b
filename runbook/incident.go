package runbook

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/reauth/reauth/audit"
	"github.com/reauth/reauth/internal/boundedfile"
	"github.com/reauth/reauth/internal/termsafe"
	"github.com/reauth/reauth/inventory"
)

// Incident is the context the operator gives a run (--ticket, --reason), so that its evidence
// ties to the incident: said in the plan, the audit log, the report and --json.
type Incident struct {
	Ticket string `json:"ticket,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// InventoryDigest is one inventory file a run read and its sha256 at the start of the run, so
// that the evidence says which description of the estate the run acted on.
type InventoryDigest struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// maxInventoryDigested bounds what inventoryDigests reads of one file (inventories are small).
const maxInventoryDigested = 16 << 20

// inventoryDigests are the sha256 of every inventory file of the run, in order.
func inventoryDigests(inv *inventory.Inventory) []InventoryDigest {
	files := inv.Files
	if len(files) == 0 {
		files = []*inventory.Inventory{inv}
	}
	var out []InventoryDigest
	for _, f := range files {
		if f.Path == "" {
			continue
		}
		d := InventoryDigest{Path: f.Path}
		if b, err := boundedfile.Read(f.Path, maxInventoryDigested); err == nil {
			sum := sha256.Sum256(b)
			d.SHA256 = hex.EncodeToString(sum[:])
		} else {
			d.SHA256 = "unreadable: " + err.Error()
		}
		out = append(out, d)
	}
	return out
}

// confirmedBy says who confirms the run: the OS user (the sudo user through sudo) and the
// terminal the confirmation is typed on, or that --yes skipped it.
func confirmedBy(o Options) string {
	if o.Yes {
		return "not asked (--yes), run by " + audit.Operator()
	}
	if o.TTY != "" {
		return audit.Operator() + " on " + o.TTY
	}
	return audit.Operator()
}

// incidentFields are the run start line's fields for the report's header.
func incidentFields(o Options, rep *Report) map[string]any {
	f := map[string]any{"confirmed_by": confirmedBy(o), "inventories": rep.Inventories}
	if o.Version != "" {
		f["reauth_version"] = o.Version
	}
	if o.Incident.Ticket != "" {
		f["ticket"] = o.Incident.Ticket
	}
	if o.Incident.Reason != "" {
		f["incident_reason"] = o.Incident.Reason
	}
	return f
}

// printIncident heads the plan with the incident it is for.
func printIncident(w io.Writer, i *Incident) {
	if i == nil {
		return
	}
	switch {
	case i.Ticket != "" && i.Reason != "":
		fmt.Fprintf(w, "\nIncident %s: %s\n", termsafe.Field(i.Ticket), termsafe.Text(i.Reason))
	case i.Ticket != "":
		fmt.Fprintf(w, "\nIncident %s\n", termsafe.Field(i.Ticket))
	default:
		fmt.Fprintf(w, "\nReason: %s\n", termsafe.Text(i.Reason))
	}
}
