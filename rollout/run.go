package rollout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/health"
	"github.com/reauth/reauth/rollout/execmethod"
)

// Run restarts plan's nodes one at a time, or in waves of Options.MaxUnavailable. It returns the per-node result and, when not every node
// was restarted, an error whose exit code says how far it got: ExitFailed when the first node
// failed, ExitPartial when some were restarted before a failure, ExitInterrupted after Stop or a
// cancelled ctx. Run does not call Preflight: callers do, before asking for confirmation.
func Run(ctx context.Context, plan Plan, opts Options) (Result, error) {
	o := opts.withDefaults()
	if err := CheckWaves(plan, o); err != nil {
		return Result{}, err
	}
	res := Result{Nodes: make([]NodeResult, len(plan.Nodes))}
	for i, n := range plan.Nodes {
		res.Nodes[i] = NodeResult{Name: n.Name, Status: StatusUntouched}
	}
	j, err := openJournal(o.JournalPath, string(plan.Product.ID), o.Resume)
	if err != nil {
		return res, err
	}
	strategy := o.Strategy
	if strategy == "" {
		strategy = StrategyRolling
	}
	if err := j.strategy(strategy, o.Resume); err != nil {
		return res, err
	}
	if strategy == StrategyFull {
		return runFull(ctx, plan, o, res, j)
	}
	return runWaves(ctx, plan, o, res, j)
}

func stopped(ctx context.Context, stop reauth.Stop) bool {
	return ctx.Err() != nil || stop.Stopping()
}

func (o Options) emit(e Event) {
	if o.Events != nil {
		o.Events(e)
	}
}

// emitNode reports an event of one of plan's nodes, with its place in the plan and the start
// timeout it is held to, so that progress can say "node2 (2/3) … / timeout 20m".
func (o Options) emitNode(plan Plan, e Event) {
	for i, n := range plan.Nodes {
		if n.Name == e.Node {
			e.Index, e.Of = i+1, len(plan.Nodes)
		}
	}
	e.Timeout = o.StartTimeout
	o.emit(e)
}

// restartNode drains, restarts and health-gates one node. idBefore is its identity before the
// restart ("" when the method has none).
func restartNode(ctx context.Context, plan Plan, n Node, o Options, idBefore string) NodeResult {
	return drained(ctx, plan, n, o, StatusRestarted, "restarted", func(ev func(Phase, string, string)) NodeResult {
		return restartDrained(ctx, plan, n, o, idBefore, ev)
	})
}

// drained runs body (the node's restart, or its stop) behind the drain before-hook. When body
// ends in another status than done after the hook ran, the node is out of the load balancer:
// afterFailure says so (or runs the after-hook, with drain.after_on_failure). what names the
// body's effect for the hook's error ("restarted", "stopped").
func drained(ctx context.Context, plan Plan, n Node, o Options, done, what string, body func(ev func(Phase, string, string)) NodeResult) NodeResult {
	start := o.Now()
	ev := func(ph Phase, state, msg string) {
		o.emitNode(plan, Event{Node: n.Name, Phase: ph, State: state, Elapsed: o.Now().Sub(start), Message: msg})
	}
	if plan.Drain.Before == "" {
		nr := body(ev)
		if nr.Status != done {
			nr.Log = logPlace(n)
			nr.Error += "; the node is not drained (there are no drain hooks): the load balancer decides whether it gets users"
		}
		return nr
	}
	ev(PhaseDrain, "", plan.Drain.Before)
	if err := execmethod.RunShell(ctx, plan.Drain.Before, plan.hookEnv(n), drainTimeout(plan), nodeLog(o, n)); err != nil {
		nr := NodeResult{Name: n.Name, Status: StatusFailed, Error: fmt.Sprintf("drain before-hook failed (node not %s): %v", what, err)}
		ev(PhaseFailed, "", nr.Error)
		return nr
	}
	nr := body(ev)
	if nr.Status != done {
		nr = afterFailure(ctx, plan, n, o, nr, ev)
		nr.Log = logPlace(n)
	}
	return nr
}

// restartDrained restarts and health-gates one node (drained, when it has a before-hook).
func restartDrained(ctx context.Context, plan Plan, n Node, o Options, idBefore string, ev func(Phase, string, string)) NodeResult {
	nr, fail, log := nodeStep(n, o, ev)
	var files []string
	if o.ClearPersistedSessions && n.Install != "" {
		if p, err := Persistence(ctx, n); err == nil && len(p.Files) > 0 {
			files = p.Files
		}
	}
	issued := o.Now()
	deadline := issued.Add(o.StartTimeout)
	ev(PhaseRestarting, "", n.Restarter.Method())
	var cmdDone chan error
	if len(files) > 0 {
		ss, ok1 := n.Restarter.(StopStarter)
		_, ok2 := n.Restarter.(FileAccess)
		c, ok3 := n.Restarter.(interface{ CanStopStart() bool })
		if !ok1 || !ok2 || (ok3 && !c.CanStopStart()) {
			return fail("Tomcat persists sessions and the %s method has no separate stop and start: node not restarted", n.Restarter.Method())
		}
		if err := stopAndWait(ctx, plan, n, o, ss, log, deadline); err != nil {
			return fail("%v", err)
		}
		markDown(nr, o.Now())
		ev(PhaseDown, "", "removing "+strings.Join(files, ", "))
		if err := clearFiles(ctx, n, files, log, ev); err != nil {
			return fail("%v", err)
		}
		nr.SessionFiles = files
		cmdDone = goRun(func() error { return ss.Start(ctx, log) })
	} else {
		cmdDone = goRun(func() error { return n.Restarter.Restart(ctx, log) })
	}
	return gate(ctx, plan, n, o, *nr, gateState{issued: issued, deadline: deadline, idBefore: idBefore, cmdDone: cmdDone}, ev)
}

// nodeStep begins one node's work: its result (failed until the work ends well), fail, which
// records an error in it, reports it and returns it, and the node's prefixed log.
func nodeStep(n Node, o Options, ev func(Phase, string, string)) (*NodeResult, func(string, ...any) NodeResult, io.Writer) {
	nr := &NodeResult{Name: n.Name, Status: StatusFailed}
	fail := func(format string, args ...any) NodeResult {
		nr.Error = fmt.Sprintf(format, args...)
		ev(PhaseFailed, "", nr.Error)
		return *nr
	}
	return nr, fail, nodeLog(o, n)
}

// stopAndWait stops the node and waits until it no longer answers RUNNING.
func stopAndWait(ctx context.Context, plan Plan, n Node, o Options, ss StopStarter, log io.Writer, deadline time.Time) error {
	if err := ss.Stop(ctx, log); err != nil {
		return fmt.Errorf("stop: %v", err)
	}
	return waitDown(ctx, plan, n, o, deadline)
}

func goRun(f func() error) chan error {
	ch := make(chan error, 1)
	go func() { ch <- f() }()
	return ch
}

// waitDown waits until the stopped node stops answering RUNNING.
func waitDown(ctx context.Context, plan Plan, n Node, o Options, deadline time.Time) error {
	b := backoff{o: o}
	for {
		ready, _ := probe(ctx, plan, n, o)
		if !ready {
			return nil
		}
		if o.Now().After(deadline) {
			return errors.New("the stop command returned but the node still answers RUNNING")
		}
		if err := b.sleep(ctx, false, 0); err != nil {
			return fmt.Errorf("interrupted while waiting for the node to stop: %w", err)
		}
	}
}

type gateState struct {
	issued, deadline time.Time
	idBefore         string
	cmdDone          chan error
}

// gate polls the node after its restart was issued: it must go down (or change identity), then
// be RUNNING for the whole stable window, with the restart command finished successfully.
func gate(ctx context.Context, plan Plan, n Node, o Options, nr NodeResult, g gateState, ev func(Phase, string, string)) NodeResult {
	fail := func(format string, args ...any) NodeResult {
		nr.Error = fmt.Sprintf(format, args...)
		ev(PhaseFailed, "", nr.Error)
		return nr
	}
	var (
		cmdFinished    bool
		cmdFinishedAt  time.Time
		stableSince    time.Time
		lastState      string
		lastPhase      Phase
		b              = backoff{o: o}
		idf, hasIdent  = n.Restarter.(Identifier)
		identityProven bool
		seenOther      bool // a state other than ERROR was seen since the restart was issued
	)
	for {
		if !cmdFinished {
			select {
			case err := <-g.cmdDone:
				if err != nil {
					return fail("restart command failed: %v", err)
				}
				cmdFinished, cmdFinishedAt = true, o.Now()
			default:
			}
		}
		ready, state := probe(ctx, plan, n, o)
		if ctx.Err() != nil {
			return fail("interrupted while waiting for the node (last state %s)", lastState)
		}
		changed := state != lastState
		lastState = state
		now := o.Now()
		if state != "ERROR" {
			seenOther = true
		} else if seenOther {
			// Jira/Bitbucket say ERROR when start-up was prevented: it does not recover by waiting.
			markDown(&nr, now)
			return fail("the node reports ERROR: its start-up failed (see the product's log on the node)")
		} else if cmdFinished && now.Sub(cmdFinishedAt) >= o.DownTimeout {
			markDown(&nr, now)
			return fail("the node still reports ERROR %v after its restart command returned: it did not start again (see the product's log on the node)", o.DownTimeout.Round(time.Millisecond))
		}
		// An ERROR seen before any other state is the node's state from before the restart (it
		// failed earlier, and --resume restarts it again): it counts as down, not as a failure.
		if !ready {
			stableSince = time.Time{}
			if !nr.WentDown {
				markDown(&nr, now)
				ev(PhaseDown, state, "")
				lastPhase = PhaseDown
			} else if changed || (lastPhase != PhaseStarting && lastPhase != PhaseDown) {
				ev(PhaseStarting, state, "")
				lastPhase = PhaseStarting
			}
		} else if !nr.WentDown && !identityProven && hasIdent && g.idBefore != "" {
			if id, err := idf.Identity(ctx); err == nil && id != "" && id != g.idBefore {
				identityProven = true
				if nr.DownAt == nil {
					nr.DownAt = &now
				}
				ev(PhaseDown, state, "restart proven: identity changed")
			}
		}
		if ready && (nr.WentDown || identityProven) {
			if stableSince.IsZero() {
				stableSince = now
				nr.ReadyAfterMS = now.Sub(g.issued).Milliseconds()
				ev(PhaseStable, state, "")
				lastPhase = PhaseStable
			}
			if cmdFinished && now.Sub(stableSince) >= o.StableWindow {
				break
			}
		}
		if ready && !nr.WentDown && !identityProven && cmdFinished && now.Sub(cmdFinishedAt) >= o.DownTimeout {
			return fail("the node never went down: it answered RUNNING throughout the %v after the restart command returned (the command did not restart it)", o.DownTimeout.Round(time.Millisecond))
		}
		if now.After(g.deadline) {
			switch {
			case !nr.WentDown && !identityProven:
				return fail("the node never went down within the start timeout %v", o.StartTimeout)
			case !ready:
				return fail("not RUNNING within the start timeout %v (last state %s)", o.StartTimeout, state)
			case !cmdFinished:
				return fail("the restart command was still running after the start timeout %v", o.StartTimeout)
			}
		}
		var limit time.Duration
		if !stableSince.IsZero() {
			limit = o.StableWindow - now.Sub(stableSince)
			if limit <= 0 {
				limit = time.Millisecond
			}
		}
		if err := b.sleep(ctx, changed, limit); err != nil {
			return fail("interrupted while waiting for the node (last state %s)", lastState)
		}
	}
	if plan.Drain.After != "" {
		ev(PhaseUndrain, "", plan.Drain.After)
		if err := runAfter(ctx, plan, n, o); err != nil {
			nr.Restarted, nr.Drained, nr.Reenable = true, true, reenableCommand(plan, n)
			return fail("restarted, but the drain after-hook failed (the node may still be out of the load balancer): %v", err)
		}
	}
	nr.Restarted, nr.Status = true, StatusRestarted
	ev(PhaseDone, health.Running, "")
	return nr
}

// markDown records that the node was seen down at t (the first time only).
func markDown(nr *NodeResult, t time.Time) {
	nr.WentDown = true
	if nr.DownAt == nil {
		nr.DownAt = &t
	}
}

// probe asks the node (and the method's own gate) whether it is ready.
func probe(ctx context.Context, plan Plan, n Node, o Options) (bool, string) {
	ready, state, _ := probeWhy(ctx, plan, n, o)
	return ready, state
}

// probeWhy is probe, with the reason the node could not be asked (nil when it answered).
func probeWhy(ctx context.Context, plan Plan, n Node, o Options) (bool, string, error) {
	url := n.URL
	if a, ok := n.Restarter.(Addresser); ok {
		u, err := a.URL(ctx)
		if err != nil {
			return false, "no address", err
		}
		url = u
	}
	if g, ok := n.Restarter.(ReadyGate); ok {
		ready, why, err := g.Ready(ctx)
		if err != nil || !ready {
			if why == "" && err != nil {
				why = err.Error()
			}
			return false, why, nil
		}
	}
	r := health.Probe(ctx, o.HTTP, plan.Product, url)
	if r.HTTP != 0 {
		return r.Ready, r.String(), nil
	}
	return r.Ready, r.String(), r.Err
}

// backoff sleeps PollInterval, doubling up to MaxPoll; a state change starts again small so that
// transitions are seen quickly.
type backoff struct {
	o   Options
	cur time.Duration
}

func (b *backoff) sleep(ctx context.Context, reset bool, limit time.Duration) error {
	if reset || b.cur == 0 {
		b.cur = b.o.PollInterval
	} else if b.cur *= 2; b.cur > b.o.MaxPoll {
		b.cur = b.o.MaxPoll
	}
	d := b.cur
	if limit > 0 && limit < d {
		d = limit // wake up when the stable window ends, not a whole interval later
	}
	return reauth.Sleep(ctx, d)
}
