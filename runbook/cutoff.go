package runbook

import "github.com/reauth/reauth/sqlstore"

// Cutoff is a table's cut-off as a value that says what it is: fixed at an id (which may be
// negative: rows someone wrote below 0 are tokens too), "resolve now" (the highest id when the
// plan runs, under the lock), or none: the table held no row when it was fixed, so no token was
// issued before the run and there is nothing to purge. The store's options and the journal keep
// the number, where 0 is "resolve now" to the store and "none" once a run has fixed it: this type
// is where the two meet, so that no purge is ever given a 0 meant as "none".
type Cutoff struct {
	id    int64
	fixed bool
}

// ResolveNow is the cut-off of a table not yet planned under the run's lock.
func ResolveNow() Cutoff { return Cutoff{} }

// FixedCutoff is a cut-off fixed at id; id 0 says the table held no row (as sqlstore's plan of
// an empty table and the journal write it).
func FixedCutoff(id int64) Cutoff { return Cutoff{id: id, fixed: true} }

// Nothing reports whether the cut-off was fixed on an empty table: nothing to purge.
func (c Cutoff) Nothing() bool { return c.fixed && c.id == 0 }

// ID is the number the journal and reports store (0: none, or not yet resolved).
func (c Cutoff) ID() int64 { return c.id }

// options are the store's options up to the cut-off: its id, or 0 for the highest id now. ok is
// false for a cut-off of none, which must be neither planned nor purged: the store would read its
// 0 as "the highest id now" and take the tokens issued since.
func (c Cutoff) options(o sqlstore.PurgeOptions) (_ sqlstore.PurgeOptions, ok bool) {
	o.CutoffID = c.id
	return o, !c.Nothing()
}

// planCutoff is the cut-off a plan fixed.
func planCutoff(p sqlstore.PurgePlan) Cutoff { return FixedCutoff(p.CutoffID) }

// cutoff is a table's cut-off in this run: resolve now until the run has fixed its cut-offs (the
// journal's phase is set then, under the lock), else the journal's.
func (u *unit) cutoff(s *TableState) Cutoff {
	if u.journal.Phase == "" {
		return ResolveNow()
	}
	return FixedCutoff(s.CutoffID)
}
