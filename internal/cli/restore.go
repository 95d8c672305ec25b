package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/backup"
	"github.com/reauth/reauth/sqlstore"
)

type restoreOptions struct {
	target    targetFlags
	batchSize int
	yes, json bool
}

type restoreJSON struct {
	Restored  int64 `json:"restored"`
	Skipped   int64 `json:"skipped"`
	Truncated bool  `json:"truncated"`
}

func newRestoreCmd(streams IO) *cobra.Command {
	var o restoreOptions
	cmd := &cobra.Command{
		Use:   "restore TARGET FILE [--yes] [--json]",
		Short: "Put back the tokens of a purge from its backup file",
		Long: `restore undoes a purge: it reads the backup file the purge wrote and inserts its rows back into
the token table, in batches. Rows whose id is already there are skipped and counted, so running
it twice is harmless. Restored tokens log their browsers in again (after the nodes restart or the
product reloads its token cache).

It refuses (exit 4, nothing written) a backup of another product or table, or whose columns no
longer match the live table (e.g. after an upgrade). The whole file is checked first (row count
and sha256). A backup without its final trailer line (the purge that wrote it crashed) is
restored with a warning: every complete row in it.

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
	cmd.Flags().BoolVar(&o.yes, "yes", false, "do not ask for confirmation (required without a terminal)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print one JSON object: restored, skipped")
	return cmd
}

func runRestore(ctx context.Context, streams IO, o restoreOptions, path string) error {
	// Read the manifest first: a file that is not a backup is refused before connecting.
	r, err := backup.Open(path)
	if err != nil {
		var re *reauth.Error
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return reauth.Refused("give the path of the file the purge wrote (its output names it: reauth-PRODUCT-TIME.jsonl.gz)",
				"backup %s: no such file; nothing was changed", path)
		case errors.Is(err, backup.ErrCorrupt) || !errors.As(err, &re):
			return reauth.Refused("give a backup file written by reauth purge (gzip JSON Lines that start with its manifest); keep this file as it is",
				"%v; nothing was changed", err)
		}
		return err
	}
	m := r.Manifest()
	r.Close()
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
	what := fmt.Sprintf("insert the tokens of backup %s into %s (%s); rows already there are skipped", path, st.Table().Qualified, db.String())
	if err := confirmTyped(streams, o.yes, string(p.ID), what); err != nil {
		return err
	}
	release, err := st.Lock(ctx, "restore")
	if err != nil {
		return err
	}
	defer release()
	res, err := st.Restore(ctx, path, sqlstore.RestoreOptions{BatchSize: o.batchSize,
		Warn: func(msg string) { fmt.Fprintf(streams.Err, "warning: %s\n", msg) }})
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(streams.Out, restoreJSON{Restored: res.Restored, Skipped: res.Skipped, Truncated: res.Truncated})
	}
	fmt.Fprintf(streams.Out, "restored %d tokens; skipped %d already present\n", res.Restored, res.Skipped)
	return nil
}

func describeBackup(w io.Writer, path string, m backup.Manifest) {
	fmt.Fprintf(w, "backup %s: %s tokens from %s (%s), cut-off id %d, taken %s by reauth %s\n", path, m.Product,
		m.Table, m.Database, m.CutoffID, m.Started.Format("2006-01-02 15:04:05Z"), m.ReauthVersion)
}
