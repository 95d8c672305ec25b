package runbook

import (
	"context"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/sqlstore"
)

// TablePurge is `reauth purge`: one token table purged outside a run, its flags made into
// options. The sequence is this package's (preflight, lock, plan, the empty-table guard,
// confirmation, purge); what the verb says and asks is in its callbacks.
type TablePurge struct {
	Store TokenStore
	// Options are the filters, batch size, rest, cut-off (0: the highest id when the plan runs),
	// version and progress; the cut-off, count and backup path are set here from the plan.
	Options sqlstore.PurgeOptions
	DryRun  bool
	// Unread: nobody reads the plan's per-user list or counts before the purge (--json --yes):
	// skip the GROUP BY and the two COUNTs, each a pass over the table.
	Unread bool
	// Preflight checks what the real purge needs beyond DELETE rights (the backup's place): for a
	// dry run too, so that what would fail is said before anyone confirms.
	Preflight func() error
	// Confirm shows the plan and asks (or takes --yes); BackupPath names the new backup file.
	Confirm    func(plan sqlstore.PurgePlan) error
	BackupPath func() (string, error)
	// Start is called once confirmed, before the first row goes: the context that abandons the
	// batches in flight (a second Ctrl-C), the Stop that ends the purge after them, and release.
	Start func() (abort context.Context, stop reauth.Stop, release func())
}

// TablePurgeOutcome is how far PurgeTable went.
type TablePurgeOutcome int

const (
	PurgeDryRun TablePurgeOutcome = iota // planned, nothing changed
	PurgeEmpty                           // the table held no token at the cut-off: nothing to do, no backup
	PurgeRan                             // purged (or failed once it began: see the error)
)

// PurgeTable runs p: DELETE rights and Preflight; the lock (not for a dry run), held to the end so
// that the plan confirmed is the plan run; the plan; then, unless a dry run or an empty table,
// Confirm and the purge with the plan's cut-off.
func PurgeTable(ctx context.Context, p TablePurge) (sqlstore.PurgePlan, sqlstore.PurgeResult, TablePurgeOutcome, error) {
	var plan sqlstore.PurgePlan
	var res sqlstore.PurgeResult
	if err := p.Store.CheckDeleteRights(ctx); err != nil {
		return plan, res, PurgeDryRun, err
	}
	if err := p.Preflight(); err != nil {
		return plan, res, PurgeDryRun, err
	}
	if !p.DryRun {
		release, err := p.Store.Lock(ctx, "purge")
		if err != nil {
			return plan, res, PurgeDryRun, err
		}
		defer release()
	}
	po := p.Options
	if p.Unread && !p.DryRun {
		po.PlanTop, po.SkipCounts = -1, true
	}
	plan, err := p.Store.Plan(ctx, po)
	if err != nil || p.DryRun {
		return plan, res, PurgeDryRun, err
	}
	if planCutoff(plan).Nothing() { // an empty table: no token was issued before this run
		return plan, res, PurgeEmpty, nil
	}
	if err := p.Confirm(plan); err != nil {
		return plan, res, PurgeDryRun, err
	}
	// The cut-off is the plan's: what was confirmed is what is deleted.
	po, _ = planCutoff(plan).options(po)
	po.ToDelete = plan.ToDelete
	if po.BackupPath, err = p.BackupPath(); err != nil {
		return plan, res, PurgeDryRun, err
	}
	abort, stop, release := p.Start()
	defer release()
	po.Stop = stop
	res, err = p.Store.Purge(abort, po)
	return plan, res, PurgeRan, err
}
