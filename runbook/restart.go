package runbook

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/rollout"
	"github.com/reauth/reauth/rollout/methods"
)

// nodes is a unit's nodes and how they restart: planned in prepare from the inventory.
type nodes struct {
	rplan     rollout.Plan
	closePlan func() // releases SSH connections
	ropts     rollout.Options
	prog      rollout.Progress // the progress line of the node in hand
}

// rolloutOptions are the inventory's timeouts (as `reauth restart` reads them) plus the restart
// journal, the one `reauth restart` uses: a rollout left by either is resumed by either.
func rolloutOptions(o *Options, ip *inventory.Product, u *unit) rollout.Options {
	ro := methods.Options(o.Inventory.FileOf(ip), ip)
	ro.JournalPath = restartJournalPath(o, ip)
	ro.ClearPersistedSessions = o.ClearPersistedSessions
	if o.StartTimeout > 0 {
		ro.StartTimeout = o.StartTimeout
	}
	if o.StableWindow > 0 {
		ro.StableWindow = o.StableWindow
	}
	ro.Strategy = u.strategy()
	if o.MaxUnavailable != (reauth.Unavailable{}) {
		ro.MaxUnavailable = o.MaxUnavailable
	}
	ro.HTTP = o.HTTP
	ro.Events = u.progress
	ro.Now = o.Now
	ro.BeforeNode = func(ctx context.Context) error { return u.store.CheckLock(ctx) }
	return ro
}

func (u *unit) progress(e rollout.Event) {
	u.logNodeEvent(e)
	if e.Node == "*" || e.Phase == rollout.PhaseWarning {
		line := fmt.Sprintf("%s: %s", e.Node, e.Phase)
		if e.Message != "" {
			line += ": " + e.Message
		}
		u.show(line)
		return
	}
	l := u.prog.Observe(e)
	if l.Final || u.view == nil || !u.view.Live() {
		u.show(l.String()) // escaped there: node names and states may come from outside
		return
	}
	u.view.UpdateClock(u.name, l.Node+" "+l.Before, time.Now().Add(-l.Elapsed), l.After)
}

// restartStep restarts every node, one at a time or in waves, behind the health gates.
func (u *unit) restartStep(ctx context.Context) error {
	opts := u.ropts
	opts.Resume = u.resumingRestart()
	opts.Stop = u.o.Stop
	res, err := u.o.seams.rollout.Run(ctx, u.rplan, opts)
	u.report.Nodes, u.report.NodesRestarted = res.Nodes, res.Restarted()
	u.measureExposure(res)
	for _, n := range res.Nodes {
		f := map[string]any{"node": n.Name, "went_down": n.WentDown, "ready_after_ms": n.ReadyAfterMS, "error": n.Error}
		if n.Drained {
			f["drained"] = true
		}
		if n.Wave > 0 {
			f["wave"] = n.Wave
		}
		if len(n.SessionFiles) > 0 {
			f["session_files_removed"] = n.SessionFiles
		}
		u.step("restart", n.Status, f)
	}
	if err != nil {
		return err
	}
	u.journal.Phase = PhaseRestarted
	return u.journal.save(u.o.Now())
}

// resumingRestart: the rolling restart of an earlier run began (its journal exists), so it is
// continued rather than started over.
func (u *unit) resumingRestart() bool {
	if !u.resumed {
		return false
	}
	_, err := os.Stat(u.ropts.JournalPath)
	return err == nil
}

// noteRoutes records how each node is reached (report.Routes) and, once each, the ssh_config
// directives that applied and that reauth does not follow (warnings).
func (u *unit) noteRoutes() {
	seen := map[string]bool{}
	for _, n := range u.rplan.Nodes {
		if r, ok := n.Restarter.(rollout.Router); ok && r.Route() != "" {
			if u.report.Routes == nil {
				u.report.Routes = map[string]string{}
			}
			u.report.Routes[n.Name] = r.Route()
		}
		if nt, ok := n.Restarter.(rollout.Noter); ok {
			for _, note := range nt.Notes() {
				if !seen[note] {
					seen[note] = true
					u.report.Warnings = append(u.report.Warnings, note)
				}
			}
		}
	}
}
