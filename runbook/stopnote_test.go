//go:build linux

package runbook

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/ptytest"
	"github.com/reauth/reauth/rollout"
)

// On a terminal, the first Ctrl-C while a node restarts prints one line naming the product, the
// node and the time it may still take; it stays on screen while the progress is redrawn, and
// the node's line says which node of how many and its timeout (#31 items 2, 3).
func TestFakeStopLineStaysOnScreen(t *testing.T) {
	f := newFakeJob(t)
	tm := ptytest.Open(t)
	stop, fire := reauth.NewStop()
	o := f.options()
	o.Err, o.Live, o.Stop = tm.TTY, true, stop
	f.rollout.RunFunc = func(ctx context.Context, p rollout.Plan, ro rollout.Options) (rollout.Result, error) {
		ev := func(ph rollout.Phase, state string, el time.Duration) {
			ro.Events(rollout.Event{Node: "n1", Phase: ph, State: state, Elapsed: el, Index: 1, Of: 2, Timeout: 20 * time.Minute})
		}
		ev(rollout.PhaseRestarting, "", 0)
		ev(rollout.PhaseStarting, "STARTING", 31*time.Second)
		fire()
		tm.WaitFor(t, "stop requested: finishing jira n1 (up to 2")
		ev(rollout.PhaseStable, "RUNNING", 40*time.Second)
		ev(rollout.PhaseDone, "RUNNING", 41*time.Second)
		f.restarted.Add(1)
		res := rollout.Result{Nodes: []rollout.NodeResult{{Name: "n1", Status: rollout.StatusRestarted, Restarted: true, WentDown: true},
			{Name: "n2", Status: rollout.StatusUntouched}}}
		return res, reauth.WithCode(reauth.ErrInterrupted, reauth.ExitInterrupted)
	}
	_, err := f.run(o)
	if reauth.CodeOf(err) != reauth.ExitInterrupted {
		t.Fatalf("err %v", err)
	}
	tm.WaitRaw(t, "n1 (1/2) restarted after 41s")
	sc := tm.WaitFor(t, "jira ")
	if strings.Count(sc, "stop requested: finishing jira n1 (up to 2") != 1 || !strings.Contains(sc, "Ctrl-C again abandons it") {
		t.Fatalf("the stop line is not on screen once:\n%s", sc)
	}
	if strings.Contains(sc, "STARTING") {
		t.Fatalf("a stale progress line:\n%s", sc)
	}
}
