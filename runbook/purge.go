package runbook

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/backup"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/rollout/methods"
	"github.com/reauth/reauth/sqlstore"
)

// tables is a unit's token table(s) and the run lock on their database: opened in prepare,
// locked in preflight, counted in plan, purged here.
type tables struct {
	db        reauth.Database
	store     TokenStore
	companion TokenStore   // the product's second token table (nil when none)
	unlock    func() error // releases the run lock, held from preflight to the report
	purge     sqlstore.PurgePlan
	rcpts     []backup.Recipient
}

// OpenStore opens a product's token table as the inventory describes it: its database block, or
// discovery from its home directory; the password from the inventory's reference, the config,
// REAUTH_DB_PASSWORD or prompt. reauth run and reauth revoke both open their stores here.
func OpenStore(ctx context.Context, inv *inventory.Inventory, ip *inventory.Product, prod atlassian.Product,
	getenv func(string) string, prompt func(string) (string, error)) (*sqlstore.Store, reauth.Database, error) {
	return OpenStoreTimeout(ctx, inv, ip, prod, getenv, prompt, 0)
}

// OpenStoreTimeout is OpenStore with each database connection bounded by connectTimeout
// (--connect-timeout; 0: sqlstore.DefaultConnectTimeout).
func OpenStoreTimeout(ctx context.Context, inv *inventory.Inventory, ip *inventory.Product, prod atlassian.Product,
	getenv func(string) string, prompt func(string) (string, error), connectTimeout time.Duration) (*sqlstore.Store, reauth.Database, error) {
	db, err := databaseOf(ctx, inv, ip, getenv)
	if err != nil {
		return nil, db, err
	}
	if err := atlassian.ResolvePassword(&db, getenv, prompt); err != nil {
		return nil, db, err
	}
	st, err := sqlstore.Open(ctx, db, prod, sqlstore.Options{Table: ip.Table, Keep: ip.AppTokenRule, ConnectTimeout: connectTimeout})
	return st, db, err
}

// databaseOf finds the product's database: from its home directory, from the inventory's
// database block, or (database: {from: statefulset}) from the env of its StatefulSet.
func databaseOf(ctx context.Context, inv *inventory.Inventory, ip *inventory.Product, getenv func(string) string) (reauth.Database, error) {
	if ip.Database != nil && ip.Database.From == inventory.DatabaseFromStatefulSet {
		db, _, err := methods.Database(ctx, inv, ip, getenv)
		return db, err
	}
	if ip.Database == nil {
		d, err := atlassian.Discover(atlassian.DiscoverOptions{Product: ip.ID, Home: inv.Resolve(ip.Home),
			Install: inv.Resolve(ip.Install), Getenv: getenv})
		if err != nil {
			return reauth.Database{}, err
		}
		return d.Database, nil
	}
	db, err := atlassian.ParseJDBCURL(ip.Database.JDBCURL)
	if err != nil {
		return reauth.Database{}, reauth.Usage("fix database.jdbc_url in the inventory", "%v", err)
	}
	db.User = ip.Database.User
	if !ip.Database.UserRef.IsZero() {
		user, err := ip.Database.UserRef.Resolve(getenv)
		if err != nil {
			return reauth.Database{}, reauth.Usage("set the database user_env or user_file", "%v", err)
		}
		db.User = user.Reveal()
	}
	if !ip.Database.Password.IsZero() {
		pw, err := ip.Database.Password.Resolve(getenv)
		if err != nil {
			return reauth.Database{}, reauth.Usage("set the database password_env or password_file", "%v", err)
		}
		db.Password, db.PasswordSource = pw, "inventory reference"
	}
	return db, nil
}

// purgeTables purges the product's second token table (Crowd's remember-me table), if any and
// not yet done, then its token table.
func (u *unit) purgeTables(ctx context.Context) error {
	if u.companion != nil && !u.journal.CompanionDone {
		u.journal.Phase = PhasePurging // rows may go from here on: a resume repeats both purges with their cut-offs
		if err := u.purgeCompanion(ctx); err != nil {
			return err
		}
	}
	return u.purgeStep(ctx)
}

// purgeStep deletes the tokens issued before the cut-off, in batches, each batch in the backup
// (fsynced) before its delete commits. On resume it uses the same cut-off and a new backup part.
func (u *unit) purgeStep(ctx context.Context) error {
	j := u.journal
	if j.CutoffID == 0 || u.onlyProofRow() {
		return u.purgeNothing(ctx)
	}
	if u.resumed && j.Phase == PhasePurging {
		u.surveyParts(u.mainParts())
	}
	path := u.backupPath()
	// The journal names the backup, and says rows may go, once the file exists and before the
	// first delete commits: never a backup that was not created.
	recorded := false
	record := func() error {
		j.Phase, j.Backups, recorded = PhasePurging, append(j.Backups, path), true
		return j.save(u.o.Now())
	}
	started := time.Now()
	last := time.Time{}
	start := map[string]any{"backup": path, "cutoff_id": j.CutoffID, "encrypted": len(u.rcpts) > 0}
	if r := u.file().Defaults.PurgeRest; r > 0 {
		start["rest"] = r
	}
	u.step(StepPurgeStart, "ok", start)
	res, err := u.store.Purge(ctx, sqlstore.PurgeOptions{
		CutoffID: j.CutoffID, ExcludeUsers: u.inv.ExcludeUsers, BackupPath: path, ToDelete: u.purge.ToDelete,
		BackupRecipients: u.rcpts,
		BackupCreated:    record,
		Rest:             u.file().Defaults.PurgeRest,
		Stop:             u.o.Stop,
		Progress: func(p sqlstore.PurgeProgress) {
			if time.Since(last) > 500*time.Millisecond {
				last = time.Now()
				u.show(fmt.Sprintf("purge: %d deleted, batch %d", p.Deleted, p.Batches))
			}
		},
	})
	j.Deleted += res.Deleted
	if !recorded && (err == nil || res.Deleted > 0) { // a store that did not call the hook
		if rerr := record(); rerr != nil && err == nil {
			err = rerr
		}
	}
	if err != nil && !recorded {
		u.step("purge", "error", map[string]any{"deleted": 0, "backup_created": false, "cutoff_id": j.CutoffID, "error": err.Error()})
		return reauth.WithHint(fmt.Errorf("%s: purge failed before its first delete: %w", u.name, err),
			fmt.Sprintf("nothing was deleted and no backup was created; fix the cause (is %s writable?) and run again with --resume", filepath.Dir(path)))
	}
	if err != nil {
		j.SHA256 = append(j.SHA256, "") // not known: the run that resumes surveys the part
		u.step("purge", "error", map[string]any{"deleted": res.Deleted, "backup": path, "cutoff_id": j.CutoffID, "encrypted": len(u.rcpts) > 0})
		return reauth.WithHint(fmt.Errorf("%s: purge stopped after deleting %d row(s): %w", u.name, res.Deleted, err),
			fmt.Sprintf("every deleted row is in %s; run again with --resume to finish the purge with the same cut-off", path))
	}
	j.Kept, j.Phase, j.PurgedAt = res.Kept, PhasePurged, utcPtr(u.o.Now())
	j.SHA256 = append(j.SHA256, res.SHA256)
	j.BackupFiles = append(j.BackupFiles, backup.Part{Path: path, Rows: res.Deleted, SHA256: res.SHA256, Complete: true, Encrypted: len(u.rcpts) > 0})
	if err := j.save(u.o.Now()); err != nil {
		return err
	}
	u.backupLifetime(j.Started)
	u.step("purge", "ok", map[string]any{"deleted": res.Deleted, "kept": res.Kept, "backup": path, "sha256": res.SHA256,
		"batches": res.Batches, "max_batch_ms": res.MaxBatchMS, "cutoff_id": j.CutoffID, "ms": ms(time.Since(started)),
		"encrypted": len(u.rcpts) > 0, "recipients": len(u.rcpts), "useful_until_note": u.report.Backup.UsefulUntilNote})
	fmt.Fprintf(u.o.Err, "%s: purged %d token(s) in %d batch(es); backup %s verified\n", u.name, res.Deleted, res.Batches, path)
	return nil
}

// utcPtr is t in UTC, as a pointer (an optional time of the journal).
func utcPtr(t time.Time) *time.Time {
	t = t.UTC()
	return &t
}

// purgeNothing ends the purge of a table that was empty at the cut-off (but for reauth's proof
// token, with its negative id): no user's token was issued before this run. (A cut-off of 0 would
// tell Purge "the highest id now", taking tokens issued since.) The proof token goes by its id
// and token. A negative cut-off is no empty table: rows someone else wrote below 0 are purged,
// backed up.
func (u *unit) purgeNothing(ctx context.Context) error {
	j := u.journal
	// The table was empty at the cut-off (but for reauth's proof token, with its negative id):
	// no user's token was issued before this run. (A cut-off of 0 would tell Purge "the highest
	// id now", taking tokens issued since.) The proof token goes by its id and token. A negative
	// cut-off is no empty table: rows someone else wrote below 0 are purged, backed up.
	if j.ProofRowID != 0 {
		if _, err := u.deleteMinted(ctx, j.ProofRowID); err != nil {
			return err
		}
		u.step("proof-delete", "ok", map[string]any{"row_id": j.ProofRowID, "deleted": 1, "note": "the table held only the proof token"})
		j.ProofRowID = 0
		if m := u.report.Verify.Proof.Minted; m != nil {
			m.Removed = true
		}
	}
	j.Phase = PhasePurged
	j.PurgedAt = utcPtr(u.o.Now())
	if err := j.save(u.o.Now()); err != nil {
		return err
	}
	u.step("purge", "ok", map[string]any{"deleted": 0, "cutoff_id": 0, "note": "the token table was empty at the cut-off: nothing to purge, no backup"})
	fmt.Fprintf(u.o.Err, "%s: nothing to purge: the token table was empty at the cut-off\n", u.name)
	return nil
}

// onlyProofRow reports whether the only row in the purge's scope is this run's proof token: the
// cut-off is its id (no row above it) and the plan counted one row.
func (u *unit) onlyProofRow() bool {
	j := u.journal
	return j.ProofRowID != 0 && j.CutoffID == j.ProofRowID && u.purge.ToDelete <= 1
}

func (u *unit) backupPath() string {
	dir := backupDir(u.o, u.file())
	name := fmt.Sprintf("reauth-%s-%s", fileSafe.ReplaceAllString(u.name, "_"), u.o.Now().UTC().Format("20060102T150405.000Z"))
	if n := len(u.journal.Backups); n > 0 {
		name += fmt.Sprintf("-part%d", n+1)
	}
	return filepath.Join(dir, name+".jsonl.gz")
}

// fileSafe matches what a product's name may hold that a file name should not (id@/path/b.yaml).
var fileSafe = regexp.MustCompile(`[^A-Za-z0-9@._-]+`)
