package runbook

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/backup"
	"github.com/reauth/reauth/inventory"
)

// backupDir is where a run writes a product's backups: the backup_dir of the product's inventory
// file, else the state directory's backups/ (0700).
func backupDir(o *Options, f *inventory.Inventory) string {
	if d := f.Resolve(f.Defaults.BackupDir); d != "" {
		return d
	}
	return o.StateDir.Backups()
}

// files are the inventory files the units are written in, each once, in order.
func files(units []*unit) []*inventory.Inventory {
	var out []*inventory.Inventory
	seen := map[*inventory.Inventory]bool{}
	for _, u := range units {
		if f := u.file(); !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// auditLogPath is the inventory's audit_log, else audit.jsonl in the state directory.
func auditLogPath(o *Options) string {
	if p := o.Inventory.Resolve(o.Inventory.Defaults.AuditLog); p != "" {
		return p
	}
	return o.StateDir.AuditLog()
}

// placeProblems is the preflight of the places a run writes (in a dry run too): the backup
// directory (not in a git work tree or a product's home), the audit log's directory and the
// state directory that holds the journals. A run that cannot write one of them would fail after
// its first change.
func placeProblems(o *Options, units []*unit) []string {
	var problems []string
	add := func(err error) {
		if err != nil {
			problems = append(problems, err.Error())
			if h := reauth.HintOf(err); h != "" {
				problems = append(problems, "  hint: "+h)
			}
		}
	}
	for _, f := range files(units) {
		dir := backupDir(o, f)
		hint := "set defaults.backup_dir in the inventory to a private directory you can write to, or leave it out (backups then go to the state directory)"
		if f.Defaults.BackupDir == "" {
			add(reauth.CheckWritableDir(dir, "backup directory", hint)) // the state directory's backups/: created 0700 once confirmed
		} else {
			add(checkExistingDir(dir, "backup directory (defaults.backup_dir of "+f.Path+")", "create it (mkdir -m 700 "+reauth.ShellQuote(dir)+"), or "+hint))
		}
		if f.Defaults.BackupDir != "" {
			var homes []string
			for _, u := range units { // in no product's home, whichever file names it
				homes = append(homes, backup.ProductHomes(u.inv.Home)...)
			}
			add(backup.CheckPlace(filepath.Join(dir, "x"), homes, "defaults.backup_dir"))
		}
	}
	logPath := auditLogPath(o)
	logHint := "set defaults.audit_log in the inventory to a file in a directory you can write to"
	if o.Inventory.Defaults.AuditLog == "" {
		add(reauth.CheckWritableDir(filepath.Dir(logPath), "audit log directory", logHint)) // the state directory: created once confirmed
	} else {
		add(checkExistingDir(filepath.Dir(logPath), "audit log directory (defaults.audit_log)",
			"create it (mkdir -p "+reauth.ShellQuote(filepath.Dir(logPath))+"), or "+logHint))
	}
	if fi, err := os.Stat(logPath); err == nil && !fi.Mode().IsRegular() {
		add(reauth.Refused("set defaults.audit_log to a regular file", "audit log %s is not a regular file", logPath))
	}
	add(reauth.CheckWritableDir(o.StateDir.Path, "state directory (journals)", "pass --state-dir DIR naming a private directory you can write to"))
	for _, u := range units {
		if u.file().Defaults.RequireEncryptedBackups {
			if len(u.rcpts) == 0 {
				add(reauth.Refused("add defaults.backup_recipients (or the product's backup_recipients) to the inventory: age or SSH public keys",
					"%s: the inventory requires encrypted backups (defaults.require_encrypted_backups) and names no recipient", u.name))
			}
		}
	}
	return problems
}

// checkExistingDir is the preflight of a directory the inventory names: it must exist and take a
// new file. A run creates only its state directory, so a missing one would fail at the first
// write, after the cut-off was fixed and the proof token minted.
func checkExistingDir(dir, what, hint string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return reauth.Refused(hint, "%s %s does not exist", what, dir)
	case err != nil:
		return reauth.Refused(hint, "%s %s: %v", what, dir, err)
	case !fi.IsDir():
		return reauth.Refused(hint, "%s %s is not a directory", what, dir)
	}
	return reauth.CheckWritableDir(dir, what, hint)
}

// ensurePlaces creates the state directory (0700), and its backups/ when the run uses it, once
// the run is confirmed.
func ensurePlaces(o *Options, fs []*inventory.Inventory) error {
	if _, err := o.StateDir.Ensure(); err != nil {
		return err
	}
	for _, f := range fs {
		if f.Defaults.BackupDir == "" {
			if _, err := o.StateDir.Ensure("backups"); err != nil {
				return err
			}
			break
		}
	}
	return nil
}

// BackupReport says what a product's backups are: encrypted or not (a clear backup holds live
// login tokens), and until when they matter.
type BackupReport struct {
	Encrypted  bool   `json:"encrypted"`
	Recipients int    `json:"recipients"`
	Warning    string `json:"warning,omitempty"`
	// UsefulUntil is when the backups' tokens can no longer log anyone in (run start + the
	// product's cookie lifetime), where that lifetime is known; the note says why.
	UsefulUntil     *time.Time `json:"useful_until,omitempty"`
	UsefulUntilNote string     `json:"useful_until_note,omitempty"`
}

// clearBackupWarning is said in the plan, the report and --json of a product whose backups are
// not encrypted.
const clearBackupWarning = "backups are NOT encrypted: they hold live login tokens, and anyone who reads them can log in as " +
	"those users until their cookies expire; encrypt them with defaults.backup_recipients (age or SSH public keys) " +
	"in the inventory, or shred them once no longer needed (reauth backups shred)"

// backupRecipients reads the inventory's recipients for the unit (the defaults' and the
// product's); recipients files are relative to the inventory.
func (u *unit) backupRecipients() error {
	rs, err := backupRecipients(u.file(), u.inv)
	if err != nil {
		return err
	}
	u.rcpts = rs
	u.report.Backup = BackupReport{Encrypted: len(rs) > 0, Recipients: len(rs)}
	if len(rs) == 0 {
		u.report.Backup.Warning = clearBackupWarning
		u.report.Warnings = append(u.report.Warnings, clearBackupWarning)
	}
	return nil
}

// printClearBackupWarning says the clear-backup warning once after the plans, naming every
// product whose backups are in clear: said in each product's plan, the same long warning was
// read (and skipped) once per product.
func printClearBackupWarning(w io.Writer, units []*unit) {
	var names []string
	for _, u := range units {
		if u.report.Status != StatusSkipped && u.report.Backup.Warning != "" {
			names = append(names, u.name)
		}
	}
	if len(names) > 0 {
		fmt.Fprintf(w, "\nwarning: %s: %s\n", strings.Join(names, ", "), clearBackupWarning)
	}
}

// backupRecipients are the keys a product's backups are encrypted to: the inventory file's
// defaults and the product's own (run and revoke alike).
func backupRecipients(inv *inventory.Inventory, ip *inventory.Product) ([]backup.Recipient, error) {
	values := append(append([]string(nil), inv.Defaults.BackupRecipients...), ip.BackupRecipients...)
	rs, err := backup.ParseRecipientValues(values, inv.Resolve)
	if err != nil {
		return nil, reauth.Usage("backup_recipients lists age public keys (age1…), ssh-ed25519 or ssh-rsa public keys, or recipients files",
			"backup_recipients: %v", err)
	}
	return rs, nil
}

func printBackupNote(w io.Writer, b BackupReport) {
	if b.Encrypted {
		fmt.Fprintf(w, "   backups are encrypted (age, %d recipient(s)): restore needs --identity\n", b.Recipients)
	} else {
		fmt.Fprintln(w, "   backups are NOT encrypted: they hold live login tokens")
	}
	if b.UsefulUntilNote != "" {
		fmt.Fprintf(w, "   backups: %s\n", b.UsefulUntilNote)
	}
}
