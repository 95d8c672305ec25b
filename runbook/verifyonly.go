package runbook

import (
	"context"
	"fmt"

	"github.com/reauth/reauth"
)

// Verify runs the verify step alone (e.g. the morning after a run): for every product, no token
// issued before the last run remains (its cut-off, start time and rule come from that run's
// journal), every cookie of CookiesFile and every minted or sampled token of that run (rebuilt
// from its backups) is rejected by every node, and every node is RUNNING. It changes nothing and
// never mints. It fails (exit 1) when a cookie or token survives or a node is down; a check that
// could replay no cookie ends with verified false and a warning (exit 0), as a run does.
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
	rep.NotCovered, rep.SSONotCovered = notCovered(units), ssoNotCovered(units)
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
	for _, u := range units {
		if v := &u.report.Verify; v.hardFailure() {
			return rep, fmt.Errorf("verification failed")
		}
	}
	for _, u := range units {
		if !u.report.Verify.Verified {
			w := u.notVerifiedWarning()
			fmt.Fprintf(o.Err, "warning: %v\n  hint: %s\n", w, reauth.HintOf(w))
		}
	}
	return rep, nil
}
