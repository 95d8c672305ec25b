package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/backup"
	"github.com/reauth/reauth/internal/termsafe"
	"github.com/reauth/reauth/sqlstore"
)

type restoreOptions struct {
	target          targetFlags
	batchSize       int
	identity        string
	toSchema        string
	acceptTruncated bool
	dryRun          bool
	yes, json       bool
	policy          policyFlags
	recordSHA       string // the audit log's sha256 of the file ("" none)
	recordState     string // restoreJSON.AuditRecord
}

type restoreJSON struct {
	Restored  int64 `json:"restored"`
	Skipped   int64 `json:"skipped"`
	Truncated bool  `json:"truncated"`
	// AuditRecord is how the file stood against the audit log: "sha256 matches", "sha256
	// recorded" (a dry run that could not read the rows), "recorded without sha256", "no record",
	// "no audit log".
	AuditRecord string `json:"audit_record"`
}

func newRestoreCmd(streams IO) *cobra.Command {
	var o restoreOptions
	cmd := &cobra.Command{
		Use:   "restore TARGET FILE [--identity FILE] [--audit-log FILE | --config FILE] [--require-encrypted] [--accept-truncated] [--to-schema S] [--dry-run] [--yes] [--json]",
		Short: "Put back the tokens of a purge from its backup file",
		Long: `restore undoes a purge: it reads the backup file the purge wrote and inserts its rows back into
the token table, in batches. Rows whose id is already there are skipped and counted, so running
it twice is harmless. Restored tokens log their browsers in again (after the nodes restart or the
product reloads its token cache).

The whole file is read and checked before anything is written, and it refuses (exit 4, nothing
written):
  - a backup of another product or table, or whose columns no longer match the live table;
  - a file that does not check: row count and sha256 (which covers the manifest), or for an
    encrypted backup the authentication of every batch and of the manifest;
  - any row the purge could not have deleted: an id above the manifest's cut-off, or a row
    outside its --user/--exclude-user/--before filters (someone added it to the file);
  - a file without its trailer (the purge that wrote it stopped, or the file was cut), unless
    --accept-truncated: then every complete batch in it is restored;
  - a target whose schema differs from the backup's, unless --to-schema names the target's.

An encrypted backup (written with --backup-recipient) needs --identity FILE: an age identity
file or the SSH private key of one of its recipients. A passphrase-protected SSH key asks for its
passphrase on the terminal (there is no flag for it). --dry-run shows the backup's manifest
(no identity needed), checks the whole file when it can, and writes nothing.

The backup is held against the audit log of the run that wrote it (--audit-log, else --config's
defaults.audit_log, else the state directory's audit.jsonl), and it refuses (exit 4, nothing
written):
  - a clear file given with --identity, with --require-encrypted or --config naming an inventory
    with defaults.require_encrypted_backups, or that the audit log records as encrypted: whoever
    can write the backup can replace it with a clear forgery, which needs no key;
  - a file whose rows do not give the sha256 the audit log records for it.
A file the audit log does not name (a standalone purge records none) is restored with a warning
saying so.

` + targetHelp + `

Exit codes: 0 done; 1 failed; 2 bad flags; 4 refused (not confirmed, or the backup does not match);
5 another run holds the lock; 130 interrupted (run it again: restored rows are skipped).`,
		Example: `  reauth restore --product jira --home /var/atlassian/application-data/jira reauth-jira-20250131T180000Z.jsonl.gz

  # From a script:
  REAUTH_DB_PASSWORD=… reauth restore --product confluence \
    --jdbc-url jdbc:postgresql://db:5432/confluence --db-user confluence backup.jsonl.gz --yes --json`,
		Args: needArgs(1, "the backup FILE"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.target.check("restore"); err != nil {
				return err
			}
			if o.batchSize < 0 {
				return usageError{cmd: "restore", err: fmt.Errorf("--batch-size must be positive")}
			}
			return runRestore(c.Context(), streams, o, args[0])
		},
	}
	o.target.add(cmd.Flags())
	cmd.Flags().IntVar(&o.batchSize, "batch-size", sqlstore.DefaultBatchSize, "rows per batch")
	cmd.Flags().StringVar(&o.identity, "identity", "", "age identity file or SSH private key that decrypts an encrypted backup")
	cmd.Flags().BoolVar(&o.acceptTruncated, "accept-truncated", false, "restore a backup without trailer (its purge stopped): every complete batch in it")
	cmd.Flags().StringVar(&o.toSchema, "to-schema", "", "confirm restoring into this schema when it differs from the backup's")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "show the backup's manifest and check the file; write nothing")
	cmd.Flags().BoolVar(&o.yes, "yes", false, "do not ask for confirmation (required without a terminal)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print one JSON object: restored, skipped")
	cmd.Flags().StringVar(&o.policy.stateDir, "state-dir", "", "reauth's private directory, whose audit.jsonl is the default audit log")
	o.policy.add(cmd.Flags(), true)
	return cmd
}

func runRestore(ctx context.Context, streams IO, o restoreOptions, path string) error {
	// Read the manifest first: a file that is not a backup is refused before connecting.
	m, err := readManifest(path)
	if err != nil {
		return err
	}
	if err := o.holdAgainstAudit(streams, path, m); err != nil {
		return err
	}
	ids, err := loadIdentities(streams, o.identity, m)
	if err != nil {
		return err
	}
	if m.Encryption != "" && len(ids) == 0 && !o.dryRun {
		return reauth.Refused("give --identity FILE: the age identity or SSH private key of one of the backup's recipients ('restore --dry-run' shows the manifest without it)",
			"backup %s is encrypted; nothing was changed", path)
	}
	st, p, db, err := o.target.open(ctx, streams)
	if err != nil {
		return err
	}
	defer st.Close()
	if !o.json {
		describeBackup(streams.Out, path, m)
	}
	if here := backup.DatabaseOf(db); !m.Database.SamePlace(here) {
		// Allowed (a copy of production, a moved database), but never by accident.
		fmt.Fprintf(streams.Err, "warning: this backup was taken from %s; restoring into %s\n", m.Database, here)
	}
	if err := checkSchema(streams, m, st.Table().Schema, o.toSchema); err != nil {
		return err
	}
	if o.dryRun {
		return restoreDryRun(ctx, streams, st, path, m, ids, o)
	}
	what := fmt.Sprintf("insert the tokens of backup %s into %s (%s); rows already there are skipped", path, st.Table().Qualified, db.String())
	if err := confirmTyped(streams, o.yes, string(p.ID), what); err != nil {
		return err
	}
	release, err := st.Lock(ctx, "restore")
	if err != nil {
		return err
	}
	defer release()
	res, err := st.Restore(ctx, path, sqlstore.RestoreOptions{BatchSize: o.batchSize, Identities: ids, AcceptTruncated: o.acceptTruncated,
		SHA256: o.recordSHA, Warn: func(msg string) { fmt.Fprintf(streams.Err, "warning: %s\n", msg) }})
	if err != nil {
		return err
	}
	if o.recordSHA != "" {
		o.recordState = "sha256 matches" // Restore refuses a file whose rows give another
	}
	if o.json {
		return writeJSON(streams.Out, restoreJSON{Restored: res.Restored, Skipped: res.Skipped, Truncated: res.Truncated, AuditRecord: o.recordState})
	}
	fmt.Fprintf(streams.Out, "restored %d tokens; skipped %d already present\n", res.Restored, res.Skipped)
	return nil
}

// holdAgainstAudit refuses a clear file where an encrypted backup is expected, and takes the
// audit log's sha256 of the file for Restore to check; it says how the file stands.
func (o *restoreOptions) holdAgainstAudit(streams IO, path string, m backup.Manifest) error {
	pol, err := o.policy.load(streams)
	if err != nil {
		return err
	}
	rec := pol.record(path)
	if err := pol.refuseClear(path, m, o.identity != "", rec); err != nil {
		return err
	}
	state, say := pol.recordState(rec)
	o.recordState = state
	if rec == nil || rec.SHA256 == "" {
		fmt.Fprintf(streams.Err, "warning: %s\n", say)
		return nil
	}
	fmt.Fprintf(streams.Err, "note: %s\n", say)
	o.recordSHA = rec.SHA256
	return nil
}

// readManifest reads a backup's manifest (no identity needed), refusing what is not a backup.
func readManifest(path string) (backup.Manifest, error) {
	r, err := backup.Open(path)
	if err != nil {
		var re *reauth.Error
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return backup.Manifest{}, reauth.Refused("give the path of the file the purge wrote (its output names it; reauth backups list shows those in the state directory)",
				"backup %s: no such file; nothing was changed", path)
		case errors.Is(err, backup.ErrCorrupt) || !errors.As(err, &re):
			return backup.Manifest{}, reauth.Refused("give a backup file written by reauth purge (gzip JSON Lines that start with its manifest); keep this file as it is",
				"%v; nothing was changed", err)
		}
		return backup.Manifest{}, err
	}
	defer r.Close()
	return r.Manifest(), nil
}

// checkSchema warns, and refuses unless --to-schema names the target's schema, when a backup
// goes into another schema than the one it came from.
func checkSchema(streams IO, m backup.Manifest, target, toSchema string) error {
	if m.Database.Schema == "" || strings.EqualFold(m.Database.Schema, target) {
		return nil
	}
	fmt.Fprintf(streams.Err, "warning: this backup was taken from schema %q; the target table is in schema %q\n", m.Database.Schema, target)
	if !strings.EqualFold(toSchema, target) {
		return reauth.Refused(fmt.Sprintf("if that is intended, add --to-schema %s", reauth.ShellQuote(target)),
			"backup of schema %q, target schema %q: not restored; nothing was changed", m.Database.Schema, target)
	}
	return nil
}

// restoreDryRun checks what a restore would: the whole file (with the identity, when encrypted)
// and every row against the manifest's scope. It writes nothing.
func restoreDryRun(ctx context.Context, streams IO, st *sqlstore.Store, path string, m backup.Manifest, ids []backup.Identity, o restoreOptions) error {
	out := restoreDryRunJSON{DryRun: true, backupJSON: manifestJSON(path, m), AuditRecord: o.recordState}
	if m.Encryption == "" || len(ids) > 0 {
		rows, truncated, err := st.CheckBackup(ctx, path, ids, o.recordSHA)
		if err != nil {
			return err
		}
		out.Checked, out.Rows, out.Truncated = true, rows, truncated
		if o.recordSHA != "" {
			out.AuditRecord = "sha256 matches"
		}
	}
	if o.json {
		return writeJSON(streams.Out, out)
	}
	switch {
	case !out.Checked:
		fmt.Fprintln(streams.Out, "encrypted: rows not checked (give --identity FILE to check them)")
	case out.Truncated:
		fmt.Fprintf(streams.Out, "checked: %d rows in complete batches, NO trailer (restore needs --accept-truncated)\n", out.Rows)
	default:
		fmt.Fprintf(streams.Out, "checked: %d rows, trailer and checksum match, every row within the manifest's cut-off and filters\n", out.Rows)
	}
	fmt.Fprintln(streams.Out, "dry run: nothing was written")
	return nil
}

type restoreDryRunJSON struct {
	DryRun bool `json:"dry_run"`
	backupJSON
	Checked     bool   `json:"checked"`
	Rows        int64  `json:"rows"`
	Truncated   bool   `json:"truncated"`
	AuditRecord string `json:"audit_record"`
}

func describeBackup(w io.Writer, path string, m backup.Manifest) {
	enc := "clear (it holds live login tokens)"
	if m.Encryption != "" {
		enc = "encrypted (" + m.Encryption + ")"
	}
	// Every field comes from the file, which anyone who can write it may have edited (the manifest
	// is only authenticated once the rows are read): nothing of it reaches the terminal raw.
	f := termsafe.Field
	fmt.Fprintf(w, "backup %s: %s tokens from %s (%s), cut-off id %d, taken %s by reauth %s, %s\n", f(path), f(m.Product),
		f(m.Table), f(m.Database.String()), m.CutoffID, m.Started.Format("2006-01-02 15:04:05Z"), f(m.ReauthVersion), f(enc))
}
