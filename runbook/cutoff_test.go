package runbook

import (
	"context"
	"os"
	"testing"

	"github.com/reauth/reauth/sqlstore"
)

func TestCutoffSaysWhatItIs(t *testing.T) {
	for _, c := range []struct {
		name    string
		c       Cutoff
		nothing bool
		id      int64
	}{
		{"resolve now", ResolveNow(), false, 0},
		{"fixed", FixedCutoff(42), false, 42},
		{"fixed below 0", FixedCutoff(-3), false, -3},
		{"none: the table was empty", FixedCutoff(0), true, 0},
		{"a plan of an empty table", planCutoff(sqlstore.PurgePlan{}), true, 0},
	} {
		po, ok := c.c.options(sqlstore.PurgeOptions{})
		if c.c.Nothing() != c.nothing || ok == c.nothing || po.CutoffID != c.id || c.c.ID() != c.id {
			t.Errorf("%s: Nothing %v, options ok %v cut-off %d", c.name, c.c.Nothing(), ok, po.CutoffID)
		}
	}
}

// A run resumed on a table that was empty at its cut-off (journal cut-off 0) plans and purges
// nothing: its 0 is "none", never "the highest id now", which would count and take the tokens
// of the users who logged in since.
func TestFakeResumeOfAnEmptyTableTakesNothingIssuedSince(t *testing.T) {
	f := newFakeJob(t)
	o := f.options()
	d := o
	d.defaults()
	if err := os.MkdirAll(d.StateDir.Path, 0o700); err != nil {
		t.Fatal(err)
	}
	j := &Journal{path: journalPath(&d, &f.inv.Products[0]), RunID: "run-1", Product: "jira", Phase: PhaseStarted}
	if err := j.save(d.Now()); err != nil {
		t.Fatal(err)
	}
	plan := f.store.PlanFunc
	f.store.PlanFunc = func(ctx context.Context, po sqlstore.PurgeOptions) (sqlstore.PurgePlan, error) {
		if po.CutoffID == 0 {
			t.Errorf("planned with cut-off 0 (the highest id now) on resume")
		}
		return plan(ctx, po)
	}
	f.store.RemainingFunc = func(_ context.Context, cutoffID int64, _ sqlstore.PurgeOptions) (int64, error) {
		if cutoffID != 0 {
			t.Errorf("remaining counted up to %d, want the journal's 0 (the rows at or below it: none)", cutoffID)
		}
		return 0, nil
	}
	o.Resume = true
	rep, err := f.run(o)
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, f.err.String())
	}
	if f.store.Count("Purge") != 0 || rep.Products[0].ToDelete != 0 || rep.Products[0].Deleted != 0 {
		t.Errorf("purges %d, to delete %d, deleted %d: want nothing", f.store.Count("Purge"), rep.Products[0].ToDelete, rep.Products[0].Deleted)
	}
}
