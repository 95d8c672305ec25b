package runbook

import (
	"context"
	"fmt"

	"github.com/reauth/reauth/sqlstore"
)

// CompanionReport is the second token table a product keeps (Crowd's cwd_remember_me_token
// beside cwd_token): purged with the first, into its own backup, under the same lock.
type CompanionReport struct {
	Table    string   `json:"table"`
	CutoffID int64    `json:"cutoff_id"`
	ToDelete int64    `json:"to_delete"`
	Deleted  int64    `json:"deleted"`
	Backups  []string `json:"backups,omitempty"`
	SHA256   []string `json:"sha256,omitempty"`
	// Remaining is what verification found left of the rows issued before the cut-off.
	Remaining int64 `json:"remaining"`
}

// openFurtherTables opens the product's further tables (prepare: reads only), each with its part of
// the report; a Crowd without its remember-me table is warned about.
func (u *unit) openFurtherTables(ctx context.Context) error {
	further, err := openFurther(ctx, u.o, u.store, u.prod)
	if err != nil {
		return err
	}
	if len(further) == 0 && u.prod.Companion.Name != "" {
		u.report.Warnings = append(u.report.Warnings, fmt.Sprintf("%s has no %s table (Crowd before 3.4 had no remember-me): nothing to purge there",
			u.prod.Name, u.prod.Companion.Name))
	}
	for _, t := range further {
		t.report = &CompanionReport{Table: t.name}
		u.report.Companion = t.report
	}
	u.further = further
	return nil
}

// planFurther counts what the further tables' purges will delete, each up to its cut-off; fix (a
// new run, under the lock) fixes each cut-off at the highest id now, into the journal.
func (u *unit) planFurther(ctx context.Context, fix bool) error {
	for _, t := range u.further {
		s := u.state(t)
		c := u.cutoff(s)
		if fix {
			c = ResolveNow()
		}
		po, ok := c.options(sqlstore.PurgeOptions{ExcludeUsers: u.inv.ExcludeUsers, PlanTop: -1})
		if !ok {
			t.report.CutoffID, t.report.ToDelete = 0, 0
			continue
		}
		p, err := t.store.Plan(ctx, po)
		if err != nil {
			return fmt.Errorf("%s: plan the purge of %s: %w", u.prod.ID, t.name, err)
		}
		t.report.CutoffID, t.report.ToDelete = p.CutoffID, p.ToDelete
		if fix {
			s.CutoffID = planCutoff(p).ID()
		}
	}
	return nil
}

// verifyFurther counts the further tables' rows issued before their cut-offs that are left: any
// is a problem (verification fails).
func (u *unit) verifyFurther(ctx context.Context) {
	v := &u.report.Verify
	for _, t := range u.further {
		c := FixedCutoff(u.state(t).CutoffID) // verification is of a run that fixed it
		if c.Nothing() {
			t.report.Remaining = 0
			continue
		}
		n, err := t.store.Remaining(ctx, c.ID(), sqlstore.PurgeOptions{ExcludeUsers: u.inv.ExcludeUsers})
		if err != nil {
			v.TokensChecked = false
			v.Problems = append(v.Problems, fmt.Sprintf("could not count the rows left in %s: %v", t.name, err))
			continue
		}
		t.report.Remaining = n
		if n > 0 {
			v.TokensRemaining += n
			v.Problems = append(v.Problems, fmt.Sprintf("%d row(s) of %s issued before the run remain", n, t.name))
		}
	}
}
