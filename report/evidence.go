package report

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/backup"
)

// Evidence file names in a bundle.
const (
	EvidenceHTML     = "report.html"
	EvidenceMarkdown = "report.md"
	EvidenceAudit    = "audit.jsonl"
	EvidenceAccounts = "affected-accounts.csv"
	EvidenceManifest = "manifest.json"
	EvidenceSums     = "SHA256SUMS"
)

// Evidence is manifest.json: what the bundle is, and what it could not hold.
type Evidence struct {
	RunID         string   `json:"run_id"`
	Outcome       string   `json:"outcome"`
	Ticket        string   `json:"ticket,omitempty"`
	AuditLog      string   `json:"audit_log"`
	AuditLogSHA   string   `json:"audit_log_sha256"` // the whole log as it was when the bundle was made
	Integrity     string   `json:"integrity"`
	ChainBroken   bool     `json:"chain_broken"`
	Accounts      int      `json:"accounts"`
	Incomplete    []string `json:"accounts_incomplete,omitempty"` // backups whose accounts are not in the CSV, and why
	Files         []string `json:"files"`
	SumsAlgorithm string   `json:"sums"`
}

// WriteEvidence writes the evidence bundle of report r (read from auditLog) into dir, which
// must be new or empty: both reports, the run's own lines of the audit log (verbatim, so their
// links can be checked against the log), the affected accounts as CSV (from the backups; ids
// open encrypted ones), manifest.json, and SHA256SUMS over them all (sha256sum -c reads it).
// Every file is 0600 in a 0700 directory: they name users and hosts.
func WriteEvidence(dir, auditLog string, r *Report, ids []backup.Identity) (*Evidence, error) {
	if err := newEmptyDir(dir); err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(auditLog)
	if err != nil {
		return nil, fmt.Errorf("evidence: read audit log: %w", err)
	}
	logSum := sha256.Sum256(raw)
	m := &Evidence{RunID: r.RunID, Outcome: r.Outcome, Ticket: r.Ticket, AuditLog: auditLog,
		AuditLogSHA: hex.EncodeToString(logSum[:]), Integrity: r.Integrity, ChainBroken: r.ChainBroken, SumsAlgorithm: "sha256"}
	files := map[string][]byte{EvidenceAudit: runLines(raw, r.RunID)}
	for name, format := range map[string]string{EvidenceHTML: FormatHTML, EvidenceMarkdown: FormatMarkdown} {
		if files[name], err = Render(r, format); err != nil {
			return nil, fmt.Errorf("evidence: %s: %w", name, err)
		}
	}
	accounts, problems := Accounts(r, ids)
	m.Accounts, m.Incomplete = len(accounts), problems
	files[EvidenceAccounts] = AccountsCSV(accounts)
	for name := range files {
		m.Files = append(m.Files, name)
	}
	m.Files = append(m.Files, EvidenceManifest)
	sort.Strings(m.Files)
	if files[EvidenceManifest], err = json.MarshalIndent(m, "", "  "); err != nil {
		return nil, err
	}
	var sums bytes.Buffer
	for _, name := range m.Files {
		sum := sha256.Sum256(files[name])
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), name)
		if err := os.WriteFile(filepath.Join(dir, name), files[name], 0o600); err != nil {
			return nil, fmt.Errorf("evidence: write %s: %w", name, err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, EvidenceSums), sums.Bytes(), 0o600); err != nil {
		return nil, fmt.Errorf("evidence: write %s: %w", EvidenceSums, err)
	}
	return m, nil
}

// runLines are the lines of the log that belong to run runID, as they are in the file.
func runLines(raw []byte, runID string) []byte {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var l struct {
			RunID string `json:"run_id"`
		}
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.RunID == runID {
			out.Write(sc.Bytes())
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// newEmptyDir creates dir (0700), or accepts it empty: a bundle never mixes with other files.
func newEmptyDir(dir string) error {
	hint := "pass --evidence NEWDIR (a directory that does not exist yet, or an empty one)"
	if ents, err := os.ReadDir(dir); err == nil {
		if len(ents) > 0 {
			return reauth.Refused(hint, "evidence directory %s is not empty", dir)
		}
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return reauth.Refused(hint, "create evidence directory: %v", err)
	}
	return nil
}
