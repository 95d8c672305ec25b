package runbook

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/reauth/reauth"
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
			u.reportBackups() // a purge that stopped names its part too
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
		if err := u.planFurther(ctx, true); err != nil {
			return err
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
		u.idpStep(ctx) // before the purge: nobody logs silently back in through the IdP afterwards
	} else {
		u.step("resume", "ok", map[string]any{"phase": string(j.Phase), "cutoff_id": j.CutoffID})
		fmt.Fprintf(u.o.Err, "%s: resuming run %s from phase %q (cut-off id %d)\n", u.name, j.RunID, j.Phase, j.CutoffID)
		u.dropMinted(ctx) // its value died with the earlier process: it can only be deleted now
		u.cleanMinted(ctx)
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
		if k, err := u.deleteMinted(ctx, j.ProofRowID); (err == nil || errors.Is(err, sqlstore.ErrNotMinted)) && k == 0 {
			u.step("proof-delete", "ok", map[string]any{"row_id": j.ProofRowID, "deleted": 0, "note": "the purge deleted the proof token"})
			j.ProofInPurge, j.ProofRowID = 1, 0 // the purge deleted it, with the users' tokens
			if m := u.report.Verify.Proof.Minted; m != nil {
				m.Removed = true
			}
		}
	}
	u.report.Deleted, u.report.Kept = j.Deleted-j.ProofInPurge, j.Kept
	u.reportBackups()

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
