package runbook

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/mock"
	"github.com/reauth/reauth/sqlstore"
)

// PurgeTable's sequence on a fake table: rights and preflight before the lock, the lock before
// the plan (none for a dry run), the plan's cut-off to the purge, and nothing confirmed or
// purged for a dry run, an empty table, a refusal or a failed preflight.
func TestPurgeTableSequence(t *testing.T) {
	cases := []struct {
		name      string
		dryRun    bool
		cutoff    int64 // the plan's: 0 is an empty table
		preflight error
		confirm   error
		outcome   TablePurgeOutcome
		calls     []string
	}{
		{"purge", false, 42, nil, nil, PurgeRan, []string{"CheckDeleteRights", "Lock", "Plan", "Purge"}},
		{"negative cut-off", false, -3, nil, nil, PurgeRan, []string{"CheckDeleteRights", "Lock", "Plan", "Purge"}},
		{"dry run", true, 42, nil, nil, PurgeDryRun, []string{"CheckDeleteRights", "Plan"}},
		{"empty table", false, 0, nil, nil, PurgeEmpty, []string{"CheckDeleteRights", "Lock", "Plan"}},
		{"not confirmed", false, 42, nil, reauth.Refused("", "not confirmed"), PurgeDryRun, []string{"CheckDeleteRights", "Lock", "Plan"}},
		{"backup place refused", false, 42, errors.New("in a git work tree"), nil, PurgeDryRun, []string{"CheckDeleteRights"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := &mock.TokenStore{}
			unlocked, confirmed, purgedAt := false, false, int64(0)
			st.LockFunc = func(context.Context, string) (func() error, error) {
				return func() error { unlocked = true; return nil }, nil
			}
			st.PlanFunc = func(_ context.Context, o sqlstore.PurgeOptions) (sqlstore.PurgePlan, error) {
				return sqlstore.PurgePlan{CutoffID: c.cutoff, ToDelete: 5}, nil
			}
			st.PurgeFunc = func(_ context.Context, o sqlstore.PurgeOptions) (sqlstore.PurgeResult, error) {
				if unlocked || o.BackupPath != "/b/x.jsonl.gz" || o.ToDelete != 5 {
					t.Errorf("purge unlocked %v, backup %q, to delete %d", unlocked, o.BackupPath, o.ToDelete)
				}
				purgedAt = o.CutoffID
				return sqlstore.PurgeResult{Deleted: 5, CutoffID: o.CutoffID}, nil
			}
			_, res, outcome, err := PurgeTable(context.Background(), TablePurge{Store: st, DryRun: c.dryRun,
				Preflight:  func() error { return c.preflight },
				Confirm:    func(sqlstore.PurgePlan) error { confirmed = true; return c.confirm },
				BackupPath: func() (string, error) { return "/b/x.jsonl.gz", nil },
				Start:      func() (context.Context, reauth.Stop, func()) { return context.Background(), reauth.Stop{}, func() {} },
			})
			if want := c.preflight != nil || c.confirm != nil; (err != nil) != want {
				t.Fatalf("err %v", err)
			}
			if got := st.Order(); outcome != c.outcome || !slices.Equal(got, c.calls) {
				t.Fatalf("outcome %d, calls %v; want %d, %v", outcome, got, c.outcome, c.calls)
			}
			if confirmed != (c.outcome == PurgeRan || c.confirm != nil) {
				t.Errorf("confirmation asked: %v", confirmed)
			}
			if c.outcome == PurgeRan && (purgedAt != c.cutoff || res.Deleted != 5) {
				t.Errorf("purged at cut-off %d (%+v), want the plan's %d", purgedAt, res, c.cutoff)
			}
		})
	}
}
