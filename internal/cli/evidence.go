package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/backup"
	"github.com/reauth/reauth/report"
	"github.com/reauth/reauth/runbook"
)

// checkEvidenceDir refuses, before anything runs, an --evidence directory that holds files.
func checkEvidenceDir(dir string) error {
	if dir == "" {
		return nil
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return reauth.Usage("pass --evidence NEWDIR (a directory that does not exist yet, or an empty one)", "evidence directory %s is not empty", dir)
	}
	return nil
}

// evidenceIdentities reads --identity for the encrypted backups whose accounts the CSV lists.
func evidenceIdentities(streams IO, path string) ([]backup.Identity, error) {
	return loadIdentities(streams, path, backup.Manifest{Encryption: "age"})
}

// writeEvidence writes the bundle of r into dir and says where, and what it could not hold.
func writeEvidence(w io.Writer, dir, auditLog string, r *report.Report, ids []backup.Identity) error {
	m, err := report.WriteEvidence(dir, auditLog, r, ids)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Evidence bundle: %s (%d file(s), %d affected account(s); check it with: cd %s && sha256sum -c %s)\n",
		dir, len(m.Files)+1, m.Accounts, reauth.ShellQuote(dir), report.EvidenceSums)
	for _, p := range m.Incomplete {
		fmt.Fprintf(w, "warning: affected accounts incomplete: %s\n", p)
	}
	return nil
}

// writeRunEvidence writes the bundle of the run that just ended (its report from the audit log);
// runErr is the run's own error, never hidden by the bundle's.
func writeRunEvidence(w io.Writer, dir string, rep *runbook.Report, runErr error) error {
	if dir == "" || rep == nil || rep.AuditLog == "" {
		return runErr
	}
	r, err := report.Load(rep.AuditLog, rep.RunID)
	if err == nil {
		err = writeEvidence(w, dir, rep.AuditLog, r, nil)
	}
	if err != nil {
		hint := fmt.Sprintf("write it with: reauth report --audit-log %s --run %s --evidence NEWDIR", reauth.ShellQuote(rep.AuditLog), rep.RunID)
		if runErr != nil {
			fmt.Fprintf(w, "warning: evidence bundle not written: %v; %s\n", err, hint)
			return runErr
		}
		return reauth.WithHint(fmt.Errorf("the run succeeded, but its evidence bundle was not written: %w", err), hint)
	}
	return runErr
}
