package runbook

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/mock"
	"github.com/reauth/reauth/sqlstore"
)

// withCompanion makes the fake product Crowd, whose catalog entry names a further token table
// (cwd_remember_me_token): 5 rows up to id 7 at the cut-off. failFirst makes its first purge
// stop after 2 rows.
func (f *fakeJob) withCompanion(failFirst bool) (c *mock.TokenStore, cutoffs *[]int64) {
	f.dir, f.inv = fakeInventory(f.t, "crowd", "    mode: restart\n    proof_user: alice\n")
	c, cutoffs = &mock.TokenStore{}, &[]int64{}
	purged := false
	c.TableFunc = func() sqlstore.TableInfo { return sqlstore.TableInfo{Name: "cwd_remember_me_token", User: "username"} }
	c.PlanFunc = func(_ context.Context, o sqlstore.PurgeOptions) (sqlstore.PurgePlan, error) {
		p := sqlstore.PurgePlan{CutoffID: 7, ToDelete: 5}
		if o.CutoffID != 0 {
			p.CutoffID = o.CutoffID
		}
		if purged {
			p.ToDelete = 0
		}
		return p, nil
	}
	c.PurgeFunc = func(_ context.Context, o sqlstore.PurgeOptions) (sqlstore.PurgeResult, error) {
		*cutoffs = append(*cutoffs, o.CutoffID)
		if err := o.BackupCreated(); err != nil {
			return sqlstore.PurgeResult{}, err
		}
		if failFirst && len(*cutoffs) == 1 {
			return sqlstore.PurgeResult{Deleted: 2, Backup: o.BackupPath}, errors.New("connection lost")
		}
		purged = true
		return sqlstore.PurgeResult{Deleted: 3, Backup: o.BackupPath, SHA256: "csum", CutoffID: o.CutoffID}, nil
	}
	c.RemainingFunc = func(context.Context, int64, sqlstore.PurgeOptions) (int64, error) {
		if purged {
			return 0, nil
		}
		return 5, nil
	}
	return c, cutoffs
}

// The companion table is purged before the token table, with its own cut-off and backup; a purge
// of it that stops leaves the token table untouched, and --resume repeats it with the same
// cut-off, counting the rows of both parts.
func TestRunFurtherTableStopsAndResumes(t *testing.T) {
	f := newFakeJob(t)
	c, cutoffs := f.withCompanion(true)
	o := f.options()
	o.seams.further = func(context.Context, TokenStore, atlassian.TokenTable) (TokenStore, bool, error) { return c, true, nil }
	rep, err := f.run(o)
	if err == nil || f.purged.Load() || f.store.Count("Purge") != 0 {
		t.Fatalf("first run: err %v, token table purged %v", err, f.purged.Load())
	}
	j := f.journal(o)
	if len(j.Tables) != 1 || j.Tables[0].Table != "cwd_remember_me_token" || j.Tables[0].CutoffID != 7 || j.Tables[0].Done ||
		j.Tables[0].Deleted != 2 || len(j.Tables[0].Backups) != 1 || j.Phase != PhasePurging {
		t.Fatalf("journal after the stopped companion purge: %+v (report %+v)", j, rep.Products[0].Companion)
	}
	o.Resume = true
	rep, err = f.run(o)
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, f.err.String())
	}
	cr := rep.Products[0].Companion
	if !slices.Equal(*cutoffs, []int64{7, 7}) || !f.purged.Load() || cr == nil || cr.Deleted != 5 || len(cr.Backups) != 2 || cr.Remaining != 0 {
		t.Fatalf("resume: companion cut-offs %v, token table purged %v, report %+v", *cutoffs, f.purged.Load(), cr)
	}
	j = f.journal(o)
	if !j.Tables[0].Done || j.Tables[0].SHA256[1] != "csum" || j.Deleted == 0 {
		t.Fatalf("journal after the resume: %+v", j)
	}
}
