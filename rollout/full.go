package rollout

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/reauth/reauth"
)

// Restart strategies (Options.Strategy, the inventory's restart.strategy, --restart-strategy).
const (
	// StrategyRolling restarts one node at a time: the cluster keeps serving. It cannot end
	// sessions that the cluster keeps outside any one node (Bitbucket's Hazelcast HTTP sessions,
	// sticky or replicated): the map lives as long as one node is up.
	StrategyRolling = "rolling"
	// StrategyFull stops every node (drain hook, stop command), confirms that all are down, then
	// starts them one at a time behind the health gates: the product is down throughout.
	StrategyFull = "full"
)

// Journal statuses of a full stop, beside StatusRestarted and StatusFailed.
const (
	statusStopping = "stopping"
	statusStopped  = "stopped"
	statusStarting = "starting"
)

// StatusStopped is a node a full stop stopped and has not started again (the run stopped before).
const StatusStopped = "stopped (not started again)"

// CheckStrategy refuses an unknown strategy name.
func CheckStrategy(s string) error {
	switch s {
	case "", StrategyRolling, StrategyFull:
		return nil
	}
	return reauth.Usage("use rolling or full", "unknown restart strategy %q", s)
}

// fullProblem says why node n cannot be part of a full stop ("" when it can).
func fullProblem(n Node) string {
	if n.Restarter.Method() == "kubernetes" {
		return fmt.Sprintf("%s (kubernetes): the full restart strategy needs every pod stopped at once: deleting a StatefulSet's pods "+
			"does not do that (the controller recreates each at once), and scaling the StatefulSet to zero is not in the RBAC role "+
			"reauth asks for; scale it to 0 and back yourself (kubectl scale statefulset … --replicas=0), or make the sessions "+
			"node-local so that a rolling restart ends them", n.Name)
	}
	_, ok := n.Restarter.(StopStarter)
	if c, has := n.Restarter.(interface{ CanStopStart() bool }); !ok || (has && !c.CanStopStart()) {
		return fmt.Sprintf("%s (%s): the full restart strategy stops every node before starting any: give the node separate stop and "+
			"start commands (restart: {%s: {stop: ..., start: ...}}) instead of one restart command", n.Name, n.Restarter.Method(), n.Restarter.Method())
	}
	return ""
}

// runFull stops every node, confirms that all are down, then starts each behind the health gates.
// The journal records each node as stopping/stopped/starting/restarted, and the moment all were
// down: --resume after a failure while stopping stops the rest (and any stopped node someone
// started again) before starting anything; after that moment it starts the nodes not yet back.
func runFull(ctx context.Context, plan Plan, o Options, res Result, j *journal) (Result, error) {
	if j.doc.AllDown {
		for i, n := range plan.Nodes {
			if !j.done(n.Name) {
				res.Nodes[i].Status, res.Nodes[i].WentDown = StatusStopped, true
			}
		}
	} else {
		for i, n := range plan.Nodes {
			if err := beforeNode(ctx, o, res, i); err != nil {
				return res, err
			}
			if j.doc.Nodes[n.Name] == statusStopped {
				if ready, _ := probe(ctx, plan, n, o); !ready {
					res.Nodes[i].Status, res.Nodes[i].WentDown = StatusStopped, true
					o.emitNode(plan, Event{Node: n.Name, Phase: PhaseSkipped, Message: "stopped by the last run, still down"})
					continue
				}
				o.emitNode(plan, Event{Node: n.Name, Phase: PhaseWarning, Message: "stopped by the last run but RUNNING again: stopping it again"})
			}
			j.set(n.Name, statusStopping)
			if err := j.save(); err != nil {
				return res, journalError(res, -1, o.JournalPath, err)
			}
			nr := stopNode(ctx, plan, n, o)
			res.Nodes[i] = nr
			if nr.Status != StatusStopped {
				j.set(n.Name, StatusFailed)
				j.setDrained(n.Name, nr.Drained)
				_ = j.save()
				if ctx.Err() != nil {
					return res, interrupted(res, i+1)
				}
				return res, fullFailure(res, i, o.JournalPath, "stopping")
			}
			j.set(n.Name, statusStopped)
			j.setDrained(n.Name, nr.Drained)
			if err := j.save(); err != nil {
				return res, journalError(res, i, o.JournalPath, err)
			}
		}
		// Every node was seen down one by one: check them all again, together, before any starts.
		var up []string
		for _, n := range plan.Nodes {
			if ready, _ := probe(ctx, plan, n, o); ready {
				up = append(up, n.Name)
			}
		}
		if len(up) > 0 {
			err := fmt.Errorf("%s answer RUNNING again although every node was stopped (something started them): the cluster's shared sessions may have survived; nothing was started (%s)",
				strings.Join(up, ", "), summary(res))
			return res, reauth.WithHint(reauth.WithCode(err, reauth.ExitPartial),
				"find what restarts them (a supervisor, systemd Restart=), then run again with --resume: reauth stops them again and starts every node once all are down")
		}
		j.doc.AllDown = true
		if err := j.save(); err != nil {
			return res, journalError(res, -1, o.JournalPath, err)
		}
		o.emit(Event{Node: "*", Phase: PhaseAllDown, Message: fmt.Sprintf("all %d node(s) are down: sessions held by the cluster are gone", len(plan.Nodes))})
	}
	for i, n := range plan.Nodes {
		if j.done(n.Name) {
			res.Nodes[i] = NodeResult{Name: n.Name, Status: StatusSkipped}
			o.emitNode(plan, Event{Node: n.Name, Phase: PhaseSkipped, Message: "already started again (journal)"})
			continue
		}
		if err := beforeNode(ctx, o, res, i); err != nil {
			return res, err
		}
		j.set(n.Name, statusStarting)
		if err := j.save(); err != nil {
			return res, journalError(res, -1, o.JournalPath, err)
		}
		failed := func(res Result, i int) error { return fullFailure(res, i, o.JournalPath, "starting") }
		if err := recordNode(ctx, j, res, i, startNode(ctx, plan, n, o, res.Nodes[i]), o.JournalPath, failed); err != nil {
			return res, err
		}
	}
	return res, nil
}

// beforeNode checks, before node i is touched, that the run may go on: not stopped (Ctrl-C), and
// BeforeNode (the run's lock) still holds.
func beforeNode(ctx context.Context, o Options, res Result, i int) error {
	if stopped(ctx, o.Stop) {
		return interrupted(res, i)
	}
	if o.BeforeNode == nil {
		return nil
	}
	if err := o.BeforeNode(ctx); err != nil {
		code := reauth.ExitFailed // nothing done yet, unless some node was restarted or stopped
		for _, x := range res.Nodes {
			if x.Status != StatusUntouched {
				code = reauth.ExitPartial
			}
		}
		return &reauth.Error{Code: code, Op: "restart",
			Err: fmt.Errorf("stopped before node %s (%s): %w", res.Nodes[i].Name, summary(res), err), Hint: reauth.HintOf(err)}
	}
	return nil
}

// stopNode drains node n, stops it, waits until it is down, and removes SESSIONS.ser where
// Tomcat persists sessions (--clear-persisted-sessions). A stopped node stays out of the load
// balancer until startNode brings it back.
func stopNode(ctx context.Context, plan Plan, n Node, o Options) NodeResult {
	nr := drained(ctx, plan, n, o, StatusStopped, "stopped", func(ev func(Phase, string, string)) NodeResult {
		return stopDrained(ctx, plan, n, o, ev)
	})
	if nr.Status == StatusStopped && plan.Drain.Before != "" {
		nr.Drained, nr.Reenable = true, reenableCommand(plan, n)
	}
	return nr
}

func stopDrained(ctx context.Context, plan Plan, n Node, o Options, ev func(Phase, string, string)) NodeResult {
	nr, fail, log := nodeStep(n, o, ev)
	ss, _ := n.Restarter.(StopStarter)
	if ss == nil {
		return fail("the %s method cannot stop the node on its own", n.Restarter.Method())
	}
	ev(PhaseStopping, "", n.Restarter.Method())
	if err := stopAndWait(ctx, plan, n, o, ss, log, o.Now().Add(o.StartTimeout)); err != nil {
		return fail("%v", err)
	}
	markDown(nr, o.Now())
	ev(PhaseDown, "", "stopped")
	if o.ClearPersistedSessions && n.Install != "" {
		if p, err := Persistence(ctx, n); err == nil && len(p.Files) > 0 {
			if err := clearFiles(ctx, n, p.Files, log, ev); err != nil {
				return fail("%v", err)
			}
			nr.SessionFiles = p.Files
		}
	}
	nr.Status = StatusStopped
	return *nr
}

// clearFiles removes the node's persisted-session files while it is down, and says so.
func clearFiles(ctx context.Context, n Node, files []string, log io.Writer, ev func(Phase, string, string)) error {
	fa, ok := n.Restarter.(FileAccess)
	if !ok {
		return fmt.Errorf("the %s method cannot remove files on the node (it is stopped: start it by hand)", n.Restarter.Method())
	}
	if err := fa.RemoveFiles(ctx, files, log); err != nil {
		return fmt.Errorf("remove persisted sessions (node is stopped: start it by hand): %w", err)
	}
	ev(PhaseSessionsCleared, "", "removed "+strings.Join(files, ", "))
	return nil
}

// startNode starts a node the full stop left down and health-gates it; prev is its stop's result.
// A node found RUNNING already was started after every node was down (by hand, or by the last
// run before it could record it): it is gated without another start command.
func startNode(ctx context.Context, plan Plan, n Node, o Options, prev NodeResult) NodeResult {
	nr := NodeResult{Name: n.Name, Status: StatusFailed, WentDown: true, SessionFiles: prev.SessionFiles,
		Drained: prev.Drained, Reenable: prev.Reenable, DownAt: prev.DownAt}
	start := o.Now()
	ev := func(ph Phase, state, msg string) {
		o.emitNode(plan, Event{Node: n.Name, Phase: ph, State: state, Elapsed: o.Now().Sub(start), Message: msg})
	}
	log := nodeLog(o, n)
	ev(PhaseRestarting, "", n.Restarter.Method()+" start")
	var cmdDone chan error
	if ready, _ := probe(ctx, plan, n, o); ready {
		cmdDone = make(chan error, 1)
		cmdDone <- nil
		ev(PhaseWarning, "", "already RUNNING (started after every node was down): not started again")
	} else {
		ss, _ := n.Restarter.(StopStarter)
		if ss == nil {
			nr.Error = fmt.Sprintf("the %s method cannot start the node on its own", n.Restarter.Method())
			ev(PhaseFailed, "", nr.Error)
			return nr
		}
		cmdDone = goRun(func() error { return ss.Start(ctx, log) })
	}
	issued := o.Now()
	nr = gate(ctx, plan, n, o, nr, gateState{issued: issued, deadline: issued.Add(o.StartTimeout), cmdDone: cmdDone}, ev)
	if nr.Status == StatusRestarted {
		nr.Drained, nr.Reenable = false, ""
	} else if prev.Drained && !nr.Drained {
		nr = afterFailure(ctx, plan, n, o, nr, ev)
	}
	return nr
}

// fullFailure is the error of a full stop that failed at node i while stopping or starting: it
// names every node's state, since some may be down.
func fullFailure(res Result, i int, journal, while string) error {
	n := res.Nodes[i]
	var down []string
	for _, x := range res.Nodes {
		if x.Status == StatusStopped || (x.Status == StatusFailed && x.WentDown) {
			down = append(down, x.Name)
		}
	}
	hint := fmt.Sprintf("fix %s, then run again with --resume: ", n.Name)
	if while == "stopping" {
		hint += "reauth stops the nodes still running, confirms that all are down, then starts every node"
	} else {
		hint += "every node was down at once already; reauth starts the nodes not yet back"
	}
	if len(down) > 0 {
		hint += fmt.Sprintf(". DOWN now: %s", strings.Join(down, ", "))
		if while == "stopping" {
			hint += " (to give up instead, start them by hand: the cluster's shared sessions then survive)"
		}
	}
	if journal != "" {
		hint += " (journal " + journal + ")"
	}
	for _, x := range res.Nodes {
		if x.Drained && x.Status == StatusFailed {
			hint += "; " + reenableHint(x)
		}
	}
	err := fmt.Errorf("full restart: node %s failed while %s: %s (%s)", n.Name, while, n.Error, summary(res))
	// Nothing changed only when the very first node failed before it went down.
	code := reauth.ExitPartial
	if while == "stopping" && i == 0 && !n.WentDown && !n.Drained {
		code = reauth.ExitFailed
	}
	return reauth.WithHint(reauth.WithCode(err, code), hint)
}
