package runbook

import (
	"context"
	"fmt"
)

// Verify runs the verify step alone (e.g. the morning after a run): for every product, no token
// issued before the last run's cut-off remains (the cut-off comes from that run's journal), every
// cookie of CookiesFile is rejected by every node, and every node is RUNNING. It changes nothing.
func Verify(ctx context.Context, o Options) (*Report, error) {
	o.defaults()
	o.verifyOnly = true
	rep := &Report{RunID: newRunID(o.Now()), NotCovered: NotCovered}
	if err := o.resolveStateDir(); err != nil {
		rep.Error = err.Error()
		return rep, err
	}
	units, err := prepareAll(ctx, o)
	defer closeAll(units)
	if err != nil {
		rep.Error = err.Error()
		return rep, err
	}
	for _, u := range units {
		u.report.CutoffID = u.journal.CutoffID
		u.verifyStep(ctx, u.journal.RunID != "")
		u.report.Status = "verified"
		if !u.report.Verify.Verified {
			u.report.Status = "not verified"
		}
	}
	syncReports(rep, units)
	rep.Verified = allVerified(units)
	if !o.Quiet {
		printReport(o.Out, rep)
	}
	if !rep.Verified {
		return rep, fmt.Errorf("verification failed")
	}
	return rep, nil
}
