package runbook

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/backup"
	"github.com/reauth/reauth/sqlstore"
)

// tableRun is one token table of a unit's run: the product's token table (name "") or a further
// one the catalog names (Crowd's cwd_remember_me_token). Its journal state is looked up by name
// each time (state), since the journal is replaced when a resume starts afresh.
type tableRun struct {
	store  TokenStore
	name   string
	report *CompanionReport // a further table's part of the report
}

// state is the table's purge in the unit's journal.
func (u *unit) state(t *tableRun) *TableState {
	if t.name == "" {
		return &u.journal.TableState
	}
	return u.journal.further(t.name)
}

// purgeTables purges the product's further tables not yet done, then its token table: the token
// table's purge ends the phase (PhasePurged), which must mean every table's rows are gone.
func (u *unit) purgeTables(ctx context.Context) error {
	for _, t := range u.further {
		if u.state(t).Done {
			continue
		}
		u.journal.Phase = PhasePurging // rows may go from here on: a resume repeats both purges with their cut-offs
		if err := u.purgeTable(ctx, t); err != nil {
			return err
		}
	}
	return u.purgeTable(ctx, &tableRun{store: u.store})
}

// purgeTable deletes a table's tokens issued before its cut-off, in batches, each batch in the
// backup (fsynced) before its delete commits. On resume it uses the same cut-off and a new backup
// part, after recording the parts a stopped run left.
func (u *unit) purgeTable(ctx context.Context, t *tableRun) error {
	j, s := u.journal, u.state(t)
	if u.nothingToPurge(t, s) {
		return u.purgeNothing(ctx, t, s)
	}
	if len(s.Backups) > 0 { // a stopped run's parts: recorded before the next
		u.surveyParts(s)
	}
	path := u.backupPath(s)
	// The journal names the backup, and says rows may go, once the file exists and before the
	// first delete commits: never a backup that was not created.
	recorded := false
	record := func() error {
		j.Phase, s.Backups, recorded = PhasePurging, append(s.Backups, path), true
		return j.save(u.o.Now())
	}
	started := time.Now()
	u.purgeStarts(t, s, path)
	res, err := t.store.Purge(ctx, u.purgeOptions(t, s, path, record))
	s.Deleted += res.Deleted
	if !recorded && (err == nil || res.Deleted > 0) { // a store that did not call the hook
		if rerr := record(); rerr != nil && err == nil {
			err = rerr
		}
	}
	if t.report != nil {
		t.report.Deleted, t.report.Backups = s.Deleted, s.Backups
	}
	if err != nil {
		return u.purgeFailed(t, s, path, res, err, recorded)
	}
	s.SHA256 = append(s.SHA256, res.SHA256)
	s.BackupFiles = append(s.BackupFiles, backup.Part{Path: path, Rows: res.Deleted, SHA256: res.SHA256, Complete: true, Encrypted: len(u.rcpts) > 0})
	if t.name == "" {
		s.Kept, j.Phase, j.PurgedAt = res.Kept, PhasePurged, utcPtr(u.o.Now())
	} else {
		s.Done = true
	}
	if t.report != nil {
		t.report.SHA256 = s.SHA256
	}
	if err := j.save(u.o.Now()); err != nil {
		return err
	}
	u.purgeEnds(t, s, path, res, time.Since(started))
	return nil
}

// nothingToPurge reports whether the table was empty at its cut-off (Cutoff.Nothing), or held
// only reauth's proof token (with its negative id): no user's token was issued before this run.
func (u *unit) nothingToPurge(t *tableRun, s *TableState) bool {
	return u.cutoff(s).Nothing() || t.name == "" && u.onlyProofRow()
}

// purgeOptions are the store's options for a table's purge: the token table's with the plan's
// count (the batch sizer's horizon), the rest between batches and progress lines.
func (u *unit) purgeOptions(t *tableRun, s *TableState, path string, record func() error) sqlstore.PurgeOptions {
	po, _ := u.cutoff(s).options(sqlstore.PurgeOptions{ExcludeUsers: u.inv.ExcludeUsers, BackupPath: path, // not Nothing: nothingToPurge
		BackupRecipients: u.rcpts, BackupCreated: record, Stop: u.o.Stop})
	if t.name != "" {
		return po
	}
	po.ToDelete, po.Rest = u.purge.ToDelete, u.file().Defaults.PurgeRest
	last := time.Time{}
	po.Progress = func(p sqlstore.PurgeProgress) {
		if time.Since(last) > 500*time.Millisecond {
			last = time.Now()
			u.show(fmt.Sprintf("purge: %d deleted, batch %d", p.Deleted, p.Batches))
		}
	}
	return po
}

// purgeStarts names the backup in the audit log before a row goes, so that a killed run's file
// has a record (encrypted or not): purge_start for the token table, backup_start for another.
func (u *unit) purgeStarts(t *tableRun, s *TableState, path string) {
	start := map[string]any{"backup": path, "encrypted": len(u.rcpts) > 0}
	if t.name != "" {
		start["table"] = t.name
		u.step(StepBackupStart, "ok", start)
		return
	}
	start["cutoff_id"] = s.CutoffID
	if r := u.file().Defaults.PurgeRest; r > 0 {
		start["rest"] = r
	}
	u.step(StepPurgeStart, "ok", start)
}

// purgeStepName is the audit step of a table's purge: "purge", or "purge-TABLE" for another.
func purgeStepName(t *tableRun) string {
	if t.name == "" {
		return "purge"
	}
	return "purge-" + t.name
}

// purgeFailed records a purge that stopped and says what to do: before its first delete nothing
// is lost; after it, every deleted row is in the backup and --resume finishes with the same cut-off.
func (u *unit) purgeFailed(t *tableRun, s *TableState, path string, res sqlstore.PurgeResult, err error, recorded bool) error {
	of := ""
	if t.name != "" {
		of = " of " + t.name
	}
	if !recorded {
		u.step(purgeStepName(t), "error", map[string]any{"deleted": 0, "backup_created": false, "cutoff_id": s.CutoffID, "error": err.Error()})
		return reauth.WithHint(fmt.Errorf("%s: purge%s failed before its first delete: %w", u.name, of, err),
			fmt.Sprintf("nothing was deleted and no backup was created; fix the cause (is %s writable?) and run again with --resume", filepath.Dir(path)))
	}
	s.SHA256 = append(s.SHA256, "") // not known: the run that resumes surveys the part
	u.step(purgeStepName(t), "error", map[string]any{"deleted": res.Deleted, "backup": path, "cutoff_id": s.CutoffID, "encrypted": len(u.rcpts) > 0})
	return reauth.WithHint(fmt.Errorf("%s: purge%s stopped after deleting %d row(s): %w", u.name, of, res.Deleted, err),
		fmt.Sprintf("every deleted row is in %s; run again with --resume to finish the purge with the same cut-off", path))
}

// purgeEnds records a table's finished purge in the audit log and on stderr.
func (u *unit) purgeEnds(t *tableRun, s *TableState, path string, res sqlstore.PurgeResult, took time.Duration) {
	fields := map[string]any{"deleted": res.Deleted, "kept": res.Kept, "backup": path, "sha256": res.SHA256,
		"cutoff_id": s.CutoffID, "encrypted": len(u.rcpts) > 0}
	if t.name != "" {
		u.step(purgeStepName(t), "ok", fields)
		fmt.Fprintf(u.o.Err, "%s: purged %d row(s) of %s; backup %s verified\n", u.name, res.Deleted, t.name, path)
		return
	}
	u.backupLifetime(u.journal.Started)
	fields["batches"], fields["max_batch_ms"], fields["ms"] = res.Batches, res.MaxBatchMS, ms(took)
	fields["recipients"], fields["useful_until_note"] = len(u.rcpts), u.report.Backup.UsefulUntilNote
	u.step("purge", "ok", fields)
	fmt.Fprintf(u.o.Err, "%s: purged %d token(s) in %d batch(es); backup %s verified\n", u.name, res.Deleted, res.Batches, path)
}

// purgeNothing ends the purge of a table that was empty at the cut-off. The proof token goes by
// its id and token.
func (u *unit) purgeNothing(ctx context.Context, t *tableRun, s *TableState) error {
	j := u.journal
	if t.name != "" {
		s.Done = true
		return j.save(u.o.Now())
	}
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
	j.Phase, j.PurgedAt = PhasePurged, utcPtr(u.o.Now())
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

// utcPtr is t in UTC, as a pointer (an optional time of the journal).
func utcPtr(t time.Time) *time.Time {
	t = t.UTC()
	return &t
}
