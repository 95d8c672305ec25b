package runbook

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/backup"
	"github.com/reauth/reauth/sqlstore"
)

// execute runs one product: lock → canary capture → purge with backup → rolling restart →
// verify. The journal records each phase before the next begins, so that --resume neither purges
// twice nor restarts a node twice.
func (u *unit) execute(ctx context.Context) (err error) {
	if u.report.Status == StatusSkipped {
		return nil
	}
	if err := u.enter(ctx, StageStart); err != nil {
		u.report.Status, u.report.Error = StatusNotStarted, err.Error()
		return err
	}
	j := u.journal
	defer func() {
		if err != nil {
			u.report.Status, u.report.Error = StatusFailed, err.Error()
			j.LastError = err.Error()
			_ = j.save(u.o.Now())
			u.step("failed", "error", map[string]any{"phase": string(j.Phase), "error": err.Error()})
		}
	}()
	// The lock was taken in preflight and is still held (checked before every batch and node).
	if err := u.store.CheckLock(ctx); err != nil {
		return err
	}
	u.step("lock", "ok", nil)
	defer u.dropMinted(ctx) // the proof token goes on every exit path (the purge usually took it already)

	if !u.resumed {
		// A new run: the restart journal of an earlier, finished run must not make this one skip nodes.
		if err := os.Remove(u.ropts.JournalPath); err != nil && !os.IsNotExist(err) {
			return err
		}
		u.captureBefore(ctx)
		u.proofStart(ctx)
		// The cut-off is fixed now, under the lock and after the canary logged in and the proof
		// token was minted: every token issued before this moment goes (the canary's and the proof
		// token too); tokens issued later are kept.
		p, err := u.store.Plan(ctx, sqlstore.PurgeOptions{ExcludeUsers: u.inv.ExcludeUsers, PlanTop: -1})
		if err != nil {
			return err
		}
		u.purge, u.report.ToDelete = p, p.ToDelete
		if err := u.planCompanion(ctx, 0); err != nil {
			return err
		}
		if u.report.Companion != nil {
			j.CompanionCutoffID = u.report.Companion.CutoffID
		}
		if j.ProofRowID != 0 {
			u.report.ToDelete-- // the proof token is not a user's
		}
		u.proofSampleAndControls(ctx, p.CutoffID)
		if err := u.ending().capture(ctx, u); err != nil {
			return err
		}
		j.RunID, j.Started, j.Phase, j.CutoffID = u.runID(), u.o.Now().UTC(), PhaseStarted, p.CutoffID
		if err := j.save(u.o.Now()); err != nil {
			return reauth.Refused("check that the inventory's directory is writable", "%v", err)
		}
		u.step("cutoff", "ok", map[string]any{"cutoff_id": p.CutoffID, "to_delete": p.ToDelete, "to_keep": p.ToKeep})
	} else {
		u.step("resume", "ok", map[string]any{"phase": string(j.Phase), "cutoff_id": j.CutoffID})
		fmt.Fprintf(u.o.Err, "%s: resuming run %s from phase %q (cut-off id %d)\n", u.name, j.RunID, j.Phase, j.CutoffID)
		u.dropMinted(ctx) // its value died with the earlier process: it can only be deleted now
	}
	u.report.CutoffID = j.CutoffID

	if j.Phase == PhaseStarted || j.Phase == PhasePurging {
		if err := u.enter(ctx, StagePurge); err != nil {
			return err
		}
		err := u.purgeTables(ctx)
		u.leave(StagePurge, err == nil)
		if err != nil {
			return err
		}
	}
	if j.Phase == PhasePurged && j.ProofRowID != 0 {
		if k, err := u.store.DeleteID(ctx, j.ProofRowID); err == nil && k == 0 {
			u.step("proof-delete", "ok", map[string]any{"row_id": j.ProofRowID, "deleted": 0, "note": "the purge deleted the proof token"})
			j.ProofInPurge, j.ProofRowID = 1, 0 // the purge deleted it, with the users' tokens
			if m := u.report.Verify.Proof.Minted; m != nil {
				m.Removed = true
			}
		}
	}
	u.report.Deleted, u.report.Kept, u.report.Backups, u.report.SHA256 = j.Deleted-j.ProofInPurge, j.Kept, j.Backups, j.SHA256

	if j.Phase == PhasePurged {
		if err := u.enter(ctx, StageSessions); err != nil {
			return err
		}
		if err := u.sessionsStep(ctx); err != nil {
			u.leave(StageSessions, false)
			return err
		}
		u.leave(StageSessions, true)
	}
	if err := u.enter(ctx, StageVerify); err != nil {
		return err
	}
	u.verifyStep(ctx, true)
	u.leave(StageVerify, true)
	j.Phase, j.Verified, j.LastError = PhaseDone, u.report.Verify.Verified, ""
	if err := j.save(u.o.Now()); err != nil {
		return err
	}
	u.report.Status = StatusDone
	if v := &u.report.Verify; !v.Verified && v.hardFailure() {
		return reauth.Failed("read the verification problems above; `reauth verify --config …` repeats the checks",
			"%s: verification failed: %s", u.name, joinProblems(v.Problems))
	} else if !v.Verified {
		w := u.notVerifiedWarning()
		fmt.Fprintf(u.o.Err, "warning: %v\n  hint: %s\n", w, reauth.HintOf(w))
		u.report.Warnings = append(u.report.Warnings, w.Error())
	}
	return nil
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

// sessionsStep ends the in-memory sessions: a rolling restart, or the session API.
func (u *unit) sessionsStep(ctx context.Context) error {
	if err := u.store.CheckLock(ctx); err != nil {
		return err
	}
	return u.ending().end(ctx, u)
}

func (u *unit) runID() string {
	if u.journal != nil && u.journal.RunID != "" && u.resumed {
		return u.journal.RunID
	}
	return u.o.runID
}

func (u *unit) step(step, outcome string, fields map[string]any) {
	if err := u.audit.Step(u.name, step, outcome, fields); err != nil {
		fmt.Fprintf(u.o.Err, "warning: %v\n", err)
	}
}

// purgeStep deletes the tokens issued before the cut-off, in batches, each batch in the backup
// (fsynced) before its delete commits. On resume it uses the same cut-off and a new backup part.
func (u *unit) purgeStep(ctx context.Context) error {
	j := u.journal
	if j.CutoffID <= 0 {
		// The table was empty at the cut-off (but for reauth's proof token, with its negative id):
		// no user's token was issued before this run. (A cut-off of 0 would tell Purge "the highest
		// id now", taking tokens issued since.) The proof token goes by its id.
		if j.ProofRowID != 0 {
			if _, err := u.store.DeleteID(ctx, j.ProofRowID); err != nil {
				return err
			}
			u.step("proof-delete", "ok", map[string]any{"row_id": j.ProofRowID, "deleted": 1, "note": "the table held only the proof token"})
			j.ProofRowID = 0
			if m := u.report.Verify.Proof.Minted; m != nil {
				m.Removed = true
			}
		}
		j.Phase = PhasePurged
		if err := j.save(u.o.Now()); err != nil {
			return err
		}
		u.step("purge", "ok", map[string]any{"deleted": 0, "cutoff_id": 0, "note": "the token table was empty at the cut-off: nothing to purge, no backup"})
		fmt.Fprintf(u.o.Err, "%s: nothing to purge: the token table was empty at the cut-off\n", u.name)
		return nil
	}
	if u.resumed && j.Phase == PhasePurging {
		// The run that stopped may have died (SIGKILL, power) before it recorded how many rows it
		// deleted: its backups hold every one of them.
		if n, ok := backedUpRows(j.Backups); ok {
			j.Deleted = n
		}
	}
	j.Phase = PhasePurging
	path := u.backupPath()
	j.Backups = append(j.Backups, path)
	if err := j.save(u.o.Now()); err != nil {
		return err
	}
	started := time.Now()
	last := time.Time{}
	u.step(StepPurgeStart, "ok", map[string]any{"backup": path, "cutoff_id": j.CutoffID})
	res, err := u.store.Purge(ctx, sqlstore.PurgeOptions{
		CutoffID: j.CutoffID, ExcludeUsers: u.inv.ExcludeUsers, BackupPath: path, ToDelete: u.purge.ToDelete,
		BackupRecipients: u.rcpts,
		Stop:             u.o.Stop,
		Progress: func(p sqlstore.PurgeProgress) {
			if time.Since(last) > 500*time.Millisecond {
				last = time.Now()
				u.show(fmt.Sprintf("purge: %d deleted, batch %d", p.Deleted, p.Batches))
			}
		},
	})
	j.Deleted += res.Deleted
	if err != nil {
		u.step("purge", "error", map[string]any{"deleted": res.Deleted, "backup": path, "cutoff_id": j.CutoffID, "encrypted": len(u.rcpts) > 0})
		return reauth.WithHint(fmt.Errorf("%s: purge stopped after deleting %d row(s): %w", u.name, res.Deleted, err),
			fmt.Sprintf("every deleted row is in %s; run again with --resume to finish the purge with the same cut-off", path))
	}
	j.Kept, j.Phase = res.Kept, PhasePurged
	j.SHA256 = append(j.SHA256, res.SHA256)
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

// backedUpRows counts the rows in backup files, including one cut short (a killed run); ok is
// false when one of them cannot be read.
func backedUpRows(paths []string) (int64, bool) {
	var n int64
	for _, p := range paths {
		r, err := backup.Open(p)
		if err != nil {
			return 0, false
		}
		for {
			if _, err := r.Next(); err != nil {
				break // io.EOF, or the end of what a killed run wrote: its last batch never committed
			}
			n++
		}
		r.Close()
	}
	return n, true
}

// restartStep restarts every node, one at a time, behind the health gates.
func (u *unit) restartStep(ctx context.Context) error {
	opts := u.ropts
	opts.Resume = u.resumingRestart()
	opts.Stop = u.o.Stop
	res, err := u.o.seams.rollout.Run(ctx, u.rplan, opts)
	u.report.Nodes, u.report.NodesRestarted = res.Nodes, res.Restarted()
	for _, n := range res.Nodes {
		f := map[string]any{"node": n.Name, "went_down": n.WentDown, "ready_after_ms": n.ReadyAfterMS, "error": n.Error}
		if n.Drained {
			f["drained"] = true
		}
		if len(n.SessionFiles) > 0 {
			f["session_files_removed"] = n.SessionFiles
		}
		u.step("restart", n.Status, f)
	}
	if err != nil {
		return err
	}
	u.journal.Phase = PhaseRestarted
	return u.journal.save(u.o.Now())
}

// resumingRestart: the rolling restart of an earlier run began (its journal exists), so it is
// continued rather than started over.
func (u *unit) resumingRestart() bool {
	if !u.resumed {
		return false
	}
	_, err := os.Stat(u.ropts.JournalPath)
	return err == nil
}

// stopContext is ctx, also cancelled when stop fires: for a connect, which has no safe point to
// wait for (preparing a product).
func stopContext(ctx context.Context, stop reauth.Stop) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(ctx)
	if stop.Done() != nil {
		go func() {
			select {
			case <-stop.Done():
				cancel()
			case <-c.Done():
			}
		}()
	}
	return c, cancel
}
