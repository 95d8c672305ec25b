package runbook

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/reauth/reauth/apimode"
	"github.com/reauth/reauth/internal/termsafe"
	"github.com/reauth/reauth/rollout"
)

// ender ends a product's in-memory sessions once its tokens are purged: a rolling restart of every
// node, or the product's session API. chooseMode picks one, once, in preflight; every step after
// it asks the unit's ender, never the mode. The journal's phase and the report say what the ender
// actually did ("restarted" nodes, or "sessions-ended" through the API).
type ender interface {
	// mode is the report's name for it: "restart" or "api".
	mode() string
	// preflight checks, before anything changes, what ending the sessions needs.
	preflight(ctx context.Context, u *unit) error
	// count fills the plan's figures.
	count(ctx context.Context, u *unit) error
	// capture runs at the cut-off, before the purge deletes the rows that still name the users.
	capture(ctx context.Context, u *unit) error
	// what is what the confirmation says it will do, after the purge.
	what(u *unit) string
	// printPlan prints the plan's lines for it.
	printPlan(w io.Writer, u *unit)
	// end ends the sessions, records each step in the audit log and the phase in the journal.
	end(ctx context.Context, u *unit) error
	// evidence fills one node's evidence that its in-memory sessions are gone; false: none.
	evidence(u *unit, ev *RestartEvidence, node string) bool
	// settle is how long a cookie still accepted after end may take to be refused everywhere.
	settle() time.Duration
	// next is the advice for a remember-me token still accepted after the run.
	next(u *unit) string
}

// sessionEnding is how a unit's sessions end: chosen once, in preflight (chooseMode).
type sessionEnding struct {
	ender ender        // nil: a rolling restart
	auth  apimode.Auth // API mode: the admin credential
}

// ending is the unit's ender: a rolling restart unless chooseMode picked the API (a verify of an
// earlier run never chooses).
func (u *unit) ending() ender {
	if u.ender == nil {
		return restartEnder{}
	}
	return u.ender
}

// restartEnder: every node restarted, one at a time, behind the health gates.
type restartEnder struct{}

func (restartEnder) mode() string { return "restart" }

func (restartEnder) preflight(ctx context.Context, u *unit) error {
	if !(u.resumed && u.journal.Phase.sessionsEnded()) {
		u.report.RestartStrategy = u.ropts.Strategy
		if err := u.checkClusterSessions(ctx); err != nil {
			return err
		}
		opts := u.ropts
		opts.Resume = u.resumingRestart()
		if err := u.o.seams.rollout.Preflight(ctx, u.rplan, opts); err != nil {
			return err
		}
		u.planExposure()
	}
	if u.ropts.Strategy == rollout.StrategyFull && u.ropts.MaxUnavailable.Of(len(u.rplan.Nodes)) > 1 {
		u.report.Warnings = append(u.report.Warnings, fmt.Sprintf("max unavailable %s is not used: the full restart strategy stops every node anyway", u.ropts.MaxUnavailable))
	}
	if len(u.rplan.Nodes) == 1 {
		u.report.Warnings = append(u.report.Warnings, fmt.Sprintf("%s has one node: it will be fully down while it restarts", u.prod.Name))
	}
	return nil
}

// count lists the persisted-session files each node's restart removes (--clear-persisted-sessions).
func (restartEnder) count(ctx context.Context, u *unit) error {
	if !u.o.ClearPersistedSessions {
		return nil
	}
	for _, n := range u.rplan.Nodes {
		if pp, err := rollout.Persistence(ctx, n); err == nil && len(pp.Files) > 0 {
			if u.report.SessionFiles == nil {
				u.report.SessionFiles = map[string][]string{}
			}
			u.report.SessionFiles[n.Name] = pp.Files
		}
	}
	return nil
}

func (restartEnder) capture(context.Context, *unit) error { return nil }

func (restartEnder) what(u *unit) string {
	if u.ropts.Strategy == rollout.StrategyFull {
		return fmt.Sprintf("stop all %d node(s), then start them", len(u.rplan.Nodes))
	}
	return fmt.Sprintf("restart %d node(s)", len(u.rplan.Nodes))
}

func (restartEnder) printPlan(w io.Writer, u *unit) {
	est := "unknown (measured on the first node)"
	if u.ropts.StableWindow > 0 {
		est = fmt.Sprintf("start-up time + %s stable window", u.ropts.StableWindow)
	}
	if u.ropts.Strategy == rollout.StrategyFull {
		fmt.Fprintf(w, "   restart    %d node(s), ALL stopped first (restart strategy full), then started one at a time: %s is DOWN "+
			"from the first stop until the first node is RUNNING again; est. downtime: %d stop(s) + %s\n", len(u.rplan.Nodes), u.prod.Name, len(u.rplan.Nodes), est)
	} else {
		fmt.Fprintf(w, "   restart    %d node(s), %s; est. downtime per node: %s\n", len(u.rplan.Nodes), atATime(u), est)
	}
	for i, n := range u.rplan.Nodes {
		fmt.Fprintf(w, "              %d. %-12s %-28s via %s\n", i+1, termsafe.Field(n.Name), termsafe.Field(n.URL), termsafe.Field(rollout.Via(n)))
		if files := u.report.SessionFiles[n.Name]; len(files) > 0 {
			fmt.Fprintf(w, "                 while it is down: remove %s (--clear-persisted-sessions)\n", fields(files))
		}
	}
	printExposurePlan(w, u.report.Exposure)
	printSkipped(w, u.report.SkippedNodes)
	if u.report.Sessions != "" {
		fmt.Fprintf(w, "   sessions   %s\n", termsafe.Text(u.report.Sessions))
	}
}

// atATime says how many nodes go down together.
func atATime(u *unit) string {
	if k := u.ropts.MaxUnavailable.Of(len(u.rplan.Nodes)); k > 1 {
		return fmt.Sprintf("in waves of up to %d", k)
	}
	return "one at a time"
}

func (restartEnder) end(ctx context.Context, u *unit) error { return u.restartStep(ctx) }

func (restartEnder) evidence(u *unit, ev *RestartEvidence, node string) bool {
	ev.Mode = "restart"
	for _, n := range u.report.Nodes {
		if n.Name == node {
			ev.SeenDown = n.WentDown || n.Status == rollout.StatusSkipped
		}
	}
	ev.Evidence = "seen down, then RUNNING: a new process with empty memory"
	if !ev.SeenDown {
		ev.Evidence = "never seen down: no evidence that it restarted"
		return false
	}
	return true
}

func (restartEnder) settle() time.Duration { return 0 }

func (restartEnder) next(u *unit) string {
	return fmt.Sprintf("%s keeps the token outside the node's memory (a replicated or persisted cache, a persisted session): "+
		"find where, then restart the nodes: reauth restart --config %s --product %s", u.prod.Name, u.file().Path, u.prod.ID)
}

// apiEnder: every listed user's sessions ended cluster-wide through the product's REST API; no
// node restarts.
type apiEnder struct{}

func (apiEnder) mode() string                               { return "api" }
func (apiEnder) preflight(context.Context, *unit) error     { return nil }
func (apiEnder) capture(ctx context.Context, u *unit) error { return u.captureUsers(ctx) }
func (apiEnder) end(ctx context.Context, u *unit) error     { return u.apiStep(ctx) }
func (apiEnder) settle() time.Duration                      { return apiSettle }
func (apiEnder) what(u *unit) string {
	return fmt.Sprintf("end the sessions of %d user(s) through the API", u.report.Mode.Users)
}
func (apiEnder) printPlan(w io.Writer, u *unit) {
	fmt.Fprintf(w, "   sessions   %d user(s) whose sessions are ended on every node through the API, after the purge; no restart\n", u.report.Mode.Users)
}

func (apiEnder) count(ctx context.Context, u *unit) error {
	if u.resumed && len(u.journal.APIUsers) > 0 {
		u.report.Mode.Users = len(u.journal.APIUsers)
		return nil
	}
	users, err := u.store.SessionUsers(ctx, u.inv.ExcludeUsers)
	if err != nil {
		return fmt.Errorf("%s: list the users whose sessions to end: %w", u.name, err)
	}
	u.report.Mode.Users = len(users)
	return nil
}

func (apiEnder) evidence(u *unit, ev *RestartEvidence, _ string) bool {
	ev.Mode = "api"
	res := u.report.Mode.Result
	if res == nil || len(res.Failed) > 0 {
		ev.Evidence = "the API calls did not all succeed"
		return false
	}
	ev.Evidence = "every user's sessions were ended through the API (cluster-wide)"
	return true
}

func (apiEnder) next(u *unit) string {
	return fmt.Sprintf("the session API ended the sessions but the node still honours the remember-me token (its cache): "+
		"do a rolling restart of %s: reauth restart --config %s --product %s", u.prod.Name, u.file().Path, u.prod.ID)
}
