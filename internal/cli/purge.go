package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/termsafe"
	"github.com/reauth/reauth/runbook"
	"github.com/reauth/reauth/sqlstore"
)

type purgeOptions struct {
	target              targetFlags
	users, excludeUsers []string
	before              string
	batchSize           int
	rest                float64
	backup              string
	recipients          []string
	allowInTree         bool
	stateDir            string
	cutoffID            int64
	dryRun, yes, json   bool
}

// purgeJSON is the --json contract of purge (design.md) plus cutoff_id.
type purgeJSON struct {
	Deleted    int64   `json:"deleted"`
	Kept       int64   `json:"kept"`
	Backup     string  `json:"backup"`
	SHA256     string  `json:"sha256"`
	Batches    int     `json:"batches"`
	MaxBatchMS float64 `json:"max_batch_ms"`
	CutoffID   int64   `json:"cutoff_id"`
	// BackupEncrypted is false for a backup in clear: it holds live login tokens.
	BackupEncrypted bool     `json:"backup_encrypted"`
	Warnings        []string `json:"warnings,omitempty"`
	Error           string   `json:"error,omitempty"`
	Hint            string   `json:"hint,omitempty"`
}

// dryRunJSON is what --dry-run --json prints.
type dryRunJSON struct {
	DryRun    bool   `json:"dry_run"`
	Product   string `json:"product"`
	Table     string `json:"table"` // as inspect's: the name as the database spells it
	Schema    string `json:"schema,omitempty"`
	Qualified string `json:"qualified"`
	sqlstore.PurgePlan
}

func newPurgeCmd(streams IO) *cobra.Command {
	var o purgeOptions
	cmd := &cobra.Command{
		Use:   "purge TARGET [--user U]... [--exclude-user U]... [--before TIME] [--batch-size N] [--backup FILE] [--dry-run] [--yes] [--json]",
		Short: "Back up, then delete remember-me tokens in small batches",
		Long: `purge deletes the product's remember-me tokens, so that browsers can no longer log themselves
back in. (Restart the nodes afterwards, or 'reauth run' does both: sessions live in memory.)

What goes: every token issued before this run, i.e. with an id up to the highest id seen when the
purge starts (the "cut-off"). Tokens created since belong to users who just logged in again:
they are kept. ("kept" in the result counts every token left in the table: those, and those
your filters left out.) Narrow it with:
  --user U           only these users' tokens (repeat the flag; login names, any case)
  --exclude-user U   keep these users' tokens, e.g. your own admin account (repeatable)
  --before TIME      only tokens whose time is before TIME (RFC 3339 or a UTC date). For
                     Bitbucket this is the token's EXPIRY time: it stores no creation time.
Login names also match where the table stores a Jira user key (app_user) or a Bitbucket user id
(stash_user).

How: in batches, each a short transaction. By default each batch is sized by how long it
holds its locks: from ` + fmt.Sprint(sqlstore.DefaultBatchSize) + ` rows toward about ` + fmt.Sprint(sqlstore.TargetBatchTime.Milliseconds()) + ` ms per batch (` + fmt.Sprint(sqlstore.InnoDBTargetBatchTime.Milliseconds()) + ` ms on MySQL
and MariaDB, whose deletes vary more), up to ` + fmt.Sprint(sqlstore.MaxAdaptiveBatch) + ` rows, smaller when the database is
busy; --batch-size N fixes it. --rest R runs one batch at a time and rests R times its time
after it (never longer than ` + reauth.MaxPurgeRestTime.String() + `): the database works on the purge at most 1/(1+R) of the time, and the purge takes
about 1+R times as long or more. Say 1 to 3 during business hours on a database that serves
users: its CPU goes to their logins meanwhile.
Every batch's rows are written to the backup file and fsynced BEFORE its delete commits, so
every deleted row is in the backup.
The backup (gzip JSON Lines, mode 0600, never overwritten) is read back and checked (row count
and sha256) before success is reported. 'reauth restore' puts the rows back.

The backup holds live login tokens: each row can be turned back into a working remember-me
cookie until it expires. By default it goes to reauth's private state directory
($XDG_STATE_HOME/reauth/backups, else ~/.local/state/reauth/backups, 0700; --state-dir moves it).
--backup-recipient KEY encrypts it with age (repeatable: an age public key age1…, an ssh-ed25519
or ssh-rsa public key, or a file of them); 'reauth restore --identity FILE' decrypts it. Without
a recipient the backup is in clear, and purge says so. A --backup inside a git work tree or inside
the product's home or shared home is refused unless --allow-backup-in-tree is given.

Safety: --dry-run checks what the real run needs (the table, DELETE rights, a new backup file
name), prints the counts per user and the exact SQL, and changes nothing. Without --yes, purge asks you to type the product name; without --yes and without a
terminal it refuses (exit 4) before connecting. One run at a time per database: the lock is
taken before the plan is shown (exit 5 if another run holds it). Ctrl-C stops after the batches
in flight, with a complete, checked backup, and prints the flags that finish the job: the same
cut-off (--cutoff-id) and the same filters. A second Ctrl-C abandons the batches in flight (say,
one waiting on a lock): they roll back, and the backup still holds every deleted row.

` + targetHelp + `

Exit codes: 0 done; 1 failed; 2 bad flags; 4 refused (not confirmed, table not as expected:
nothing changed); 5 another run holds the lock; 130 interrupted (Ctrl-C).`,
		Example: `  # See what would go, per user, and the exact SQL (changes nothing):
  reauth purge --product jira --home /var/atlassian/application-data/jira --dry-run

  # Purge everyone but the break-glass admin, asked to confirm on the terminal:
  reauth purge --product jira --home /var/atlassian/application-data/jira --exclude-user admin

  # From a script: no prompt, one JSON object (deleted, kept, backup, sha256, batches, max_batch_ms)
  REAUTH_DB_PASSWORD=… reauth purge --product confluence \
    --jdbc-url jdbc:postgresql://db:5432/confluence --db-user confluence \
    --backup /var/backups/confluence-tokens.jsonl.gz --yes --json

  # One user's tokens only:
  reauth purge --product bitbucket --home /var/atlassian/application-data/bitbucket --user jdoe --yes

  # Finish a purge that was interrupted (same cut-off and filters, new backup file):
  reauth purge --product jira --home /var/atlassian/application-data/jira --cutoff-id 10452 --exclude-user admin --yes`,
		Args: needArgs(0, "no positional arguments; TARGET is given by flags"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.target.check("purge"); err != nil {
				return err
			}
			if o.batchSize < 0 || o.batchSize > 100000 {
				return usageError{cmd: "purge", err: fmt.Errorf("--batch-size must be between 1 and 100000 (or leave it out, or 0: batches are then sized by time)")}
			}
			if err := sqlstore.CheckRest(o.rest); err != nil {
				return usageError{cmd: "purge", err: fmt.Errorf("--rest: %w (%s)", err, reauth.HintOf(err))}
			}
			return runPurge(c.Context(), streams, o)
		},
	}
	o.target.add(cmd.Flags())
	f := cmd.Flags()
	f.StringArrayVar(&o.users, "user", nil, "only this user's tokens (login name; repeatable)")
	f.StringArrayVar(&o.excludeUsers, "exclude-user", nil, "keep this user's tokens (login name; repeatable)")
	f.StringVar(&o.before, "before", "", "only tokens whose time is before TIME (RFC 3339 or UTC date; Bitbucket: expiry)")
	f.IntVar(&o.batchSize, "batch-size", 0, "rows per batch, one short transaction each (default: sized to hold locks ~"+fmt.Sprint(sqlstore.TargetBatchTime.Milliseconds())+" ms, ~"+fmt.Sprint(sqlstore.InnoDBTargetBatchTime.Milliseconds())+" ms on MySQL/MariaDB)")
	f.Float64Var(&o.rest, "rest", 0, "one batch at a time, each followed by a rest of R times its time, never longer than "+reauth.MaxPurgeRestTime.String()+": slower, gentler on the database's users (0 to "+fmt.Sprint(sqlstore.MaxRest)+")")
	f.StringVar(&o.backup, "backup", "", "backup file to create (default: reauth-<product>-<UTC time>.jsonl.gz in the state directory's backups/)")
	f.StringArrayVar(&o.recipients, "backup-recipient", nil, "encrypt the backup to this age or SSH public key, or the keys in this file (repeatable)")
	f.BoolVar(&o.allowInTree, "allow-backup-in-tree", false, "accept a --backup inside a git work tree or the product's home")
	f.StringVar(&o.stateDir, "state-dir", "", "reauth's private directory (default $XDG_STATE_HOME/reauth, else ~/.local/state/reauth)")
	f.Int64Var(&o.cutoffID, "cutoff-id", 0, "purge ids up to this one, which may be negative (default, or 0: the highest id now); to finish an interrupted purge")
	f.BoolVar(&o.dryRun, "dry-run", false, "do every read, print counts per user and the SQL, change nothing")
	f.BoolVar(&o.yes, "yes", false, "do not ask for confirmation (required without a terminal)")
	f.BoolVar(&o.json, "json", false, "print one JSON object: deleted, kept, backup, sha256, batches, max_batch_ms, cutoff_id")
	return cmd
}

func (o purgeOptions) storeOptions() (sqlstore.PurgeOptions, error) {
	po := sqlstore.PurgeOptions{Users: o.users, ExcludeUsers: o.excludeUsers, BatchSize: o.batchSize, Rest: o.rest,
		CutoffID: o.cutoffID, ReauthVersion: Version, PlanTop: 50}
	if o.before != "" {
		t, err := parseTime(o.before)
		if err != nil {
			return po, usageError{cmd: "purge", err: err}
		}
		po.Before = &t
	}
	return po, nil
}

func runPurge(ctx context.Context, streams IO, o purgeOptions) error {
	po, err := o.storeOptions()
	if err != nil {
		return err
	}
	if !o.yes && !o.dryRun && !canConfirm(streams) {
		// Refuse before connecting: nothing could be confirmed anyway.
		return reauth.Refused("add --yes to confirm without a terminal (after checking the plan with --dry-run)",
			"not confirmed: purge needs confirmation and there is no terminal to ask on; nothing was changed")
	}
	place, err := o.backupPlace(streams)
	if err != nil {
		return err
	}
	st, p, db, err := o.target.open(ctx, streams)
	if err != nil {
		return err
	}
	defer st.Close()
	po.BackupRecipients = place.recipients
	pp := &progressPrinter{streams: streams}
	po.Progress = func(pr sqlstore.PurgeProgress) { pp.update(pr.Deleted, pr.ToDelete, pr.Batches, pr.Elapsed) }
	plan, res, outcome, err := runbook.PurgeTable(ctx, o.tablePurge(ctx, streams, st, p, db, place, po))
	switch {
	case outcome == runbook.PurgeDryRun && err == nil:
		if o.json {
			return writeJSON(streams.Out, dryRunJSON{DryRun: true, Product: string(p.ID), Table: st.Table().Name, Schema: st.Table().Schema,
				Qualified: st.Table().Qualified, PurgePlan: plan})
		}
		printPurgePlan(streams, st, plan, db, o.batchSize, o.rest)
		place.printWarning(streams.Out)
		fmt.Fprintln(streams.Out, "dry run: nothing was changed")
		return nil
	case outcome == runbook.PurgeDryRun:
		return err
	case outcome == runbook.PurgeEmpty:
		if o.json {
			return writeJSON(streams.Out, purgeJSON{})
		}
		fmt.Fprintf(streams.Out, "nothing to delete: %s holds no tokens; no backup was written\n", st.Table().Qualified)
		return nil
	}
	pp.done()
	out := purgeJSON{Deleted: res.Deleted, Kept: res.Kept, Backup: res.Backup, SHA256: res.SHA256, Batches: res.Batches,
		MaxBatchMS: res.MaxBatchMS, CutoffID: res.CutoffID, BackupEncrypted: len(place.recipients) > 0, Warnings: place.warnings()}
	if err != nil {
		if res.Deleted > 0 || res.Batches > 0 {
			// Some rows are gone: say where they are and how to finish, on stdout too.
			out.Error, out.Hint = err.Error(), reauth.HintOf(err)
			if o.json {
				_ = writeJSON(streams.Out, out)
			}
		}
		if reauth.HintOf(err) == "" {
			err = reauth.WithHint(err, purgeFailureHint(res, o.target))
		}
		return err
	}
	if o.json {
		return writeJSON(streams.Out, out)
	}
	fmt.Fprintf(streams.Out, "deleted %d tokens in %d batches (longest %.1f ms); kept %d (the tokens left in the table)\n", res.Deleted, res.Batches, res.MaxBatchMS, res.Kept)
	fmt.Fprintf(streams.Out, "backup  %s (checked: %d rows, sha256 %s)\n", res.Backup, res.Deleted, res.SHA256)
	place.printWarning(streams.Out)
	fmt.Fprintf(streams.Out, "undo    reauth restore %s %s%s\n", o.target.again(), place.identityHint(), res.Backup)
	fmt.Fprintln(streams.Out, "next    restart every node (sessions live in memory), e.g. reauth restart --config FILE")
	return nil
}

// tablePurge is the purge verb's part of runbook.PurgeTable: its words (the plan, the
// confirmation, the interrupt notice) and its backup's place.
func (o purgeOptions) tablePurge(ctx context.Context, streams IO, st *sqlstore.Store, p atlassian.Product, db reauth.Database,
	place *backupPlace, po sqlstore.PurgeOptions) runbook.TablePurge {
	return runbook.TablePurge{
		Store: st, Options: po, DryRun: o.dryRun, Unread: o.json && o.yes, Preflight: place.check,
		Confirm: func(plan sqlstore.PurgePlan) error {
			if !o.json {
				printPurgePlan(streams, st, plan, db, o.batchSize, o.rest)
				place.printWarning(streams.Out)
			}
			what := fmt.Sprintf("delete %d %s remember-me tokens (ids up to %d) from %s, after backing them up", plan.ToDelete, p.Name, plan.CutoffID, st.Table().Qualified)
			return confirmTyped(streams, o.yes, string(p.ID), what)
		},
		BackupPath: func() (string, error) {
			path, err := place.path(string(p.ID), streams.now())
			if abs, aerr := filepath.Abs(path); err == nil && aerr == nil {
				path = abs
			}
			return path, err
		},
		Start: func() (context.Context, reauth.Stop, func()) {
			return streams.stages(ctx, func() {
				fmt.Fprintln(streams.Err, "interrupt: stopping after the batches in flight (the backup stays complete); press Ctrl-C again to abandon them (they roll back)")
			})
		},
	}
}

// purgeFailureHint is the hint of a purge error that has none: it must not say "nothing was
// deleted" when rows were (a purge can fail after its last batch, e.g. counting the rows kept).
func purgeFailureHint(res sqlstore.PurgeResult, t targetFlags) string {
	if res.Deleted > 0 {
		return fmt.Sprintf("%d token(s) were deleted, and every one is in the backup %s: keep it; undo with reauth restore %s %s",
			res.Deleted, res.Backup, t.again(), res.Backup)
	}
	return "no batch was committed: nothing was deleted unless a backup file was written; check it with reauth restore --help"
}

func printPurgePlan(streams IO, st *sqlstore.Store, plan sqlstore.PurgePlan, db reauth.Database, batchSize int, rest float64) {
	w := streams.Out
	fmt.Fprintf(w, "plan for %s (%s)\n", st.Table().Qualified, db.String())
	fmt.Fprintf(w, "  cut-off id   %d (tokens issued later are kept)\n", plan.CutoffID)
	fmt.Fprintf(w, "  to delete    %d\n  to keep      %d\n", plan.ToDelete, plan.ToKeep)
	if len(plan.Excluded) > 0 {
		fmt.Fprintf(w, "  excluded     %s\n", termsafe.Field(strings.Join(plan.Excluded, ", ")))
	}
	if len(plan.PerUser) > 0 {
		fmt.Fprintln(w, "  per user (most first):")
		for _, u := range plan.PerUser {
			name := termsafe.Field(u.User)
			if u.Key != "" {
				name += " (stored as " + termsafe.Field(u.Key) + ")"
			}
			fmt.Fprintf(w, "    %8d  %s\n", u.Count, name)
		}
		if more := plan.Users - int64(len(plan.PerUser)); more > 0 {
			fmt.Fprintf(w, "    … and %d more user(s)\n", more)
		}
	}
	if batchSize > 0 {
		fmt.Fprintf(w, "  batches      %d rows each (--batch-size)\n", batchSize)
	} else {
		fmt.Fprintf(w, "  batches      sized to hold their locks ~%d ms each (the first: %d rows; --batch-size N fixes it)\n",
			st.BatchTarget().Milliseconds(), sqlstore.DefaultBatchSize)
	}
	if rest > 0 {
		fmt.Fprintf(w, "  rest         one batch at a time, then %g× its time, at most %s (--rest): ~%.3g× as long or more\n", rest, reauth.MaxPurgeRestTime, 1+rest)
	}
	fmt.Fprintln(w, "  SQL, per batch:")
	for _, q := range plan.SQL {
		fmt.Fprintf(w, "    %s\n", termsafe.Field(q)) // its args quote user names
	}
}
