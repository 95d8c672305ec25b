package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/spf13/pflag"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/audit"
	"github.com/reauth/reauth/backup"
	"github.com/reauth/reauth/internal/termsafe"
	"github.com/reauth/reauth/inventory"
)

// policyFlags say what restore and backups list hold a backup against: the audit log of the run
// that wrote it, and whether a clear backup is refused.
type policyFlags struct {
	config, auditLog, stateDir string
	requireEncrypted           bool
}

func (f *policyFlags) add(fs *pflag.FlagSet, requireFlag bool) {
	fs.StringVar(&f.auditLog, "audit-log", "", "the audit log of the run that wrote the backup (default: --config's defaults.audit_log, else the state directory's audit.jsonl)")
	if !requireFlag {
		fs.StringVar(&f.config, "config", "", "the inventory of the run: its defaults.audit_log")
		return
	}
	fs.StringVar(&f.config, "config", "", "the inventory of the run: its defaults.audit_log and defaults.require_encrypted_backups")
	fs.BoolVar(&f.requireEncrypted, "require-encrypted", false, "refuse a backup that is not encrypted")
}

// backupPolicy is the audit log read (its entries, or why there are none) and whether a clear
// backup is refused.
type backupPolicy struct {
	log              string
	entries          []audit.Entry
	missing          bool   // no file at log (the default place, nothing given), or not readable
	unreadable       string // why, when it is there but could not be read
	requireEncrypted bool
	requiredBy       string
}

// load reads --config and the audit log. An --audit-log that cannot be read is refused (the
// check asked for cannot be made); the inventory's or the default one may be absent (no run
// wrote it yet), and then no file has a record.
func (f policyFlags) load(streams IO) (*backupPolicy, error) {
	p := &backupPolicy{log: f.auditLog, requireEncrypted: f.requireEncrypted, requiredBy: "--require-encrypted was given"}
	if f.config != "" {
		inv, err := inventory.Load(f.config)
		if err != nil {
			return nil, reauth.Usage("give --config the inventory (reauth.yaml) of the run that wrote the backup", "--config: %v", err)
		}
		if inv.Defaults.RequireEncryptedBackups && !p.requireEncrypted {
			p.requireEncrypted, p.requiredBy = true, "the inventory requires encrypted backups (defaults.require_encrypted_backups)"
		}
		if p.log == "" {
			p.log = inv.Resolve(inv.Defaults.AuditLog)
		}
	}
	named := f.auditLog != "" // asked for by name: it must be there (an inventory's may not be yet)
	if p.log == "" {
		sd, err := reauth.ResolveStateDir(f.stateDir, streams.getenv)
		if err != nil {
			return nil, err
		}
		p.log = sd.AuditLog()
	}
	es, err := audit.ReadFile(p.log)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !named:
		p.missing = true
	case err != nil && !named:
		// Not asked for: a damaged log must not block an incident's restore (whoever could
		// damage it could as well have forged it); the warning says the check was not made.
		p.missing, p.unreadable = true, err.Error()
	case err != nil:
		return nil, reauth.Refused("give --audit-log the audit log of the run that wrote the backup (defaults.audit_log of its inventory)",
			"audit log %s: %v; nothing was changed", termsafe.Field(p.log), err)
	}
	p.entries = es
	return p, nil
}

// record is the audit log's record of the backup at path; nil when it has none.
func (p *backupPolicy) record(path string) *audit.BackupRecord {
	r, ok := audit.FindBackup(p.entries, path)
	if !ok {
		return nil
	}
	return &r
}

// refuseClear refuses a clear backup where an encrypted one is expected: --identity given, the
// policy, or the audit log's record of the file as encrypted. Whoever can write the backup can put
// a clear file there without any key (age has no sender authentication, and a clear file none at
// all): restoring it would insert tokens of their choosing.
func (p *backupPolicy) refuseClear(path string, m backup.Manifest, identity bool, rec *audit.BackupRecord) error {
	if m.Encryption != "" {
		return nil
	}
	why, hint := "", "a clear file where an encrypted backup should be is a forgery by someone who could write the file (it needs no key): do not restore it; find the encrypted file the run wrote (the audit log records its sha256)"
	switch {
	case rec != nil && rec.Encrypted:
		why = fmt.Sprintf("the audit log %s records it as encrypted (run %s, line %d)", p.log, rec.RunID, rec.Line)
	case p.requireEncrypted:
		why = p.requiredBy
	case identity:
		why = "--identity was given"
		hint += "; if you know that this backup was written in clear, restore it without --identity"
	default:
		return nil
	}
	return reauth.Refused(hint, "backup %s is not encrypted, but %s; nothing was changed", termsafe.Field(path), termsafe.Field(why))
}

// recordState says how a backup stands against the audit log: "sha256 recorded", "recorded
// without sha256", "no record", "no audit log"; and a sentence for the operator.
func (p *backupPolicy) recordState(rec *audit.BackupRecord) (state, say string) {
	log := termsafe.Field(p.log)
	switch {
	case p.missing && p.unreadable != "":
		return "no audit log", fmt.Sprintf("the audit log %s cannot be read (%s): the file cannot be checked against the run that wrote it (give --audit-log FILE)",
			log, termsafe.Field(p.unreadable))
	case p.missing:
		return "no audit log", fmt.Sprintf("no audit log at %s (give --audit-log FILE, the defaults.audit_log of the run's inventory): the file cannot be checked against the run that wrote it", log)
	case rec == nil:
		return "no record", fmt.Sprintf("the audit log %s has no record of this file (a standalone reauth purge writes none): it cannot be checked against the run that wrote it", log)
	case rec.SHA256 == "":
		return "recorded without sha256", fmt.Sprintf("the audit log %s names this file (run %s, line %d) without its sha256 (its purge stopped and was not resumed): its rows cannot be checked against it",
			log, termsafe.Field(rec.RunID), rec.Line)
	}
	return "sha256 recorded", fmt.Sprintf("the audit log %s records this file (run %s, line %d, sha256 %.16s…): its rows are checked against that",
		log, termsafe.Field(rec.RunID), rec.Line, termsafe.Field(rec.SHA256))
}

// judge sets how a listed backup stands against the audit log (backupEntry.Audit). A clear file
// the log records as encrypted, or whose rows do not give the recorded sha256, is not verified.
func (p *backupPolicy) judge(e *backupEntry) {
	rec := p.record(e.Path)
	if rec != nil {
		e.AuditRunID = rec.RunID
	}
	switch {
	case p.missing:
		e.Audit = "no audit log"
	case rec == nil:
		e.Audit = "no record"
	case rec.Encrypted && !e.Encrypted:
		e.Audit, e.Verified = "recorded as encrypted", false
		e.Problem = "the audit log records it as encrypted, and it is clear: a forgery by someone who could write the file; do not restore it"
	case rec.SHA256 == "":
		e.Audit = "recorded without sha256"
	case e.sha == "":
		e.Audit = "not checked"
	case strings.EqualFold(e.sha, rec.SHA256):
		e.Audit = "sha256 matches"
	default:
		e.Audit, e.Verified = "sha256 differs", false
		e.Problem = fmt.Sprintf("its rows give sha256 %.16s…, the audit log records %.16s… (run %s): not the file the run wrote", e.sha, rec.SHA256, rec.RunID)
	}
}
