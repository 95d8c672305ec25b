package runbook

import (
	"fmt"
	"io"

	"github.com/reauth/reauth/backup"
)

// StepBackupPart is the audit line of a backup part that a run left cut short (killed, or its
// connection lost), written by the run that resumes it: the file, its rows and digest, so that
// the report, --json and the audit log name every backup of the run.
const StepBackupPart = "backup_part"

// StepBackupStart names the companion table's backup file before its purge deletes a row (the
// token table's is named by purge_start), with whether it is encrypted.
const StepBackupStart = "backup_start"

// surveyParts records, when a purge is resumed, every earlier part of it not yet recorded: the
// run that wrote it stopped before it could (SIGKILL, power, a lost connection). Each part is read
// whole (rows in complete batches, the digest of its manifest and rows, whether it has its
// trailer), added to the journal with its digest aligned to its path, and logged. The purge's
// count becomes the sum of the parts' rows: every row the stopped runs deleted is in one of them
// (a part may hold a few rows more: a batch fsynced whose delete did not commit). An encrypted
// part cannot be counted without a key: its rows stay unknown, and the count as recorded.
func (u *unit) surveyParts(s *TableState) {
	known := map[string]bool{}
	for _, p := range s.BackupFiles {
		known[p.Path] = true
	}
	for _, path := range s.Backups {
		if known[path] {
			continue
		}
		p, err := backup.Survey(path)
		p.Path = path
		u.logPart(s.Table, p, err)
		s.BackupFiles = append(s.BackupFiles, p)
	}
	byPath := map[string]backup.Part{}
	for _, p := range s.BackupFiles {
		byPath[p.Path] = p
	}
	var total int64
	counted := true
	sha := make([]string, 0, len(s.Backups))
	for _, path := range s.Backups {
		p := byPath[path]
		sha = append(sha, p.SHA256)
		if p.Rows < 0 {
			counted = false
		}
		total += p.Rows
	}
	s.SHA256 = sha
	if counted {
		s.Deleted = total
	}
}

// logPart writes a surveyed part's audit line (and warns when it cannot be read).
func (u *unit) logPart(table string, p backup.Part, err error) {
	fields := map[string]any{"backup": p.Path, "rows": p.Rows, "sha256": p.SHA256, "complete": p.Complete, "encrypted": p.Encrypted}
	if table != "" {
		fields["table"] = table
	}
	outcome := "cut short"
	switch {
	case err != nil:
		outcome, fields["error"] = "error", err.Error()
	case p.Complete:
		outcome = "complete"
	}
	if p.Encrypted {
		fields["note"] = "encrypted: its rows are counted by reauth restore --dry-run --identity KEY"
	}
	u.step(StepBackupPart, outcome, fields)
	if err != nil {
		fmt.Fprintf(u.o.Err, "warning: %s: backup %s of the stopped run cannot be read: %v\n", u.name, p.Path, err)
	}
}

// reportBackups puts the journal's backups into the report (--json and the summary): every part
// of the run, with the digest of each where it is known.
func (u *unit) reportBackups() {
	j := u.journal
	u.report.Backups, u.report.SHA256, u.report.BackupFiles = j.Backups, j.SHA256, j.BackupFiles
}

// printBackupLine is one backup of the summary: its rows and digest where known, and the restore
// that undoes it (--accept-truncated for a part cut short).
func printBackupLine(w io.Writer, p ProductReport, i int, path string) {
	facts, flag := "", ""
	for _, f := range p.BackupFiles {
		if f.Path != path {
			continue
		}
		if f.Rows >= 0 {
			facts += fmt.Sprintf(", %d row(s)", f.Rows)
		}
		if !f.Complete {
			facts += ", cut short when its run stopped"
			flag = "--accept-truncated "
		}
	}
	if i < len(p.SHA256) && p.SHA256[i] != "" {
		facts += ", sha256 " + p.SHA256[i]
	}
	fmt.Fprintf(w, "   backup  %s%s (undo: reauth restore --product %s … %s%s)\n", path, facts, p.Product, flag, path)
}

// printUncounted says that the count above leaves out the rows of an encrypted part cut short:
// a resumed run cannot read them without a key.
func printUncounted(w io.Writer, p ProductReport) {
	for _, f := range p.BackupFiles {
		if f.Rows < 0 {
			fmt.Fprintf(w, "   note    the count leaves out the rows of %s (encrypted, cut short when its run stopped): reauth restore --dry-run --identity KEY … %s counts them\n", f.Path, f.Path)
		}
	}
}
