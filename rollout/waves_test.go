package rollout

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reauth/reauth"
)

// waveWatch records, at each restart command, the node and how many nodes were not RUNNING
// (the one restarting included), so a test sees the waves and the guard from the nodes' side.
type waveWatch struct {
	mu       sync.Mutex
	order    []string
	maxDown  int
	minServe int
}

func watchWaves(plan Plan, nodes []*simNode, rs []*simRestarter) *waveWatch {
	w := &waveWatch{minServe: len(nodes)}
	for i, r := range rs {
		r.onStart = func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.order = append(w.order, plan.Nodes[i].Name)
			down := 1
			for j, other := range nodes {
				if j != i && other.get() != "RUNNING" {
					down++
				}
			}
			w.maxDown = max(w.maxDown, down)
			w.minServe = min(w.minServe, len(nodes)-down)
		}
	}
	return w
}

// wavesOf groups the nodes by the wave their result names.
func wavesOf(res Result) string {
	var waves []string
	for _, n := range res.Nodes {
		for len(waves) < n.Wave {
			waves = append(waves, "")
		}
		if n.Wave > 0 {
			waves[n.Wave-1] = strings.TrimPrefix(waves[n.Wave-1]+"+"+n.Name, "+")
		}
	}
	return strings.Join(waves, " ")
}

func TestWavesOfTwoOnFiveNodes(t *testing.T) {
	plan, nodes, rs := cluster(t, "", "", "", "", "")
	w := watchWaves(plan, nodes, rs)
	opts := fastOpts(t)
	opts.MaxUnavailable = reauth.Unavailable{Count: 2}
	var mu sync.Mutex
	var waveEvents []string
	// restartedAt: the order in which nodes passed their gate; a wave's first restart command must
	// come after every node of the wave before it passed.
	var gated []string
	opts.Events = func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Phase {
		case PhaseWave:
			waveEvents = append(waveEvents, e.Message)
		case PhaseDone:
			gated = append(gated, e.Node)
		case PhaseRestarting:
			gated = append(gated, "start:"+e.Node)
		}
	}
	if err := Preflight(context.Background(), plan, opts); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), plan, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := wavesOf(res); got != "node1+node2 node3+node4 node5" {
		t.Errorf("waves = %s", got)
	}
	if got := strings.Join(waveEvents, "|"); got != "wave 1: node1, node2|wave 2: node3, node4|wave 3: node5" {
		t.Errorf("wave events = %s", got)
	}
	if w.maxDown != 2 {
		t.Errorf("at most %d node(s) were down at once, want 2 (waves of 2)", w.maxDown)
	}
	// The gate per wave: node3 starts only after node1 and node2 are both restarted.
	pos := map[string]int{}
	for i, g := range gated {
		pos[g] = i
	}
	for _, c := range [][2]string{{"node1", "start:node3"}, {"node2", "start:node3"}, {"node2", "start:node4"},
		{"node3", "start:node5"}, {"node4", "start:node5"}} {
		if pos[c[0]] > pos[c[1]] {
			t.Errorf("%s before %s passed its gate: %v", c[1], c[0], gated)
		}
	}
	for _, n := range res.Nodes {
		if !n.Restarted || n.DownAt == nil {
			t.Errorf("%+v: restarted and seen down at a time", n)
		}
	}
}

func TestWaveGuardCountsNodesAlreadyDown(t *testing.T) {
	plan, nodes, rs := cluster(t, "", "", "", "", "")
	w := watchWaves(plan, nodes, rs)
	opts := fastOpts(t)
	opts.MaxUnavailable = reauth.Unavailable{Count: 2}
	opts.MinServing = 3
	// node5 is not RUNNING when the run begins: one node unavailable before anything starts.
	nodes[4].set("STARTING", 503)
	res, err := Run(context.Background(), plan, opts)
	if err != nil {
		t.Fatal(err)
	}
	// With node5 down, each wave may take one RUNNING node (2 unavailable at most, 3 serving at
	// least); node5, already down, joins the last wave at no cost.
	if got := wavesOf(res); got != "node1 node2 node3 node4+node5" {
		t.Errorf("waves = %s", got)
	}
	if w.maxDown != 2 || w.minServe != 3 {
		t.Errorf("max down %d, min serving %d: want 2 and 3", w.maxDown, w.minServe)
	}
}

func TestWaveGuardRefusesWhenTooFewServe(t *testing.T) {
	plan, nodes, rs := cluster(t, "", "", "", "", "")
	w := watchWaves(plan, nodes, rs)
	opts := fastOpts(t)
	opts.MinServing = 4
	nodes[4].set("STARTING", 503)
	res, err := Run(context.Background(), plan, opts)
	if reauth.CodeOf(err) != reauth.ExitRefused {
		t.Fatalf("exit %d: %v", reauth.CodeOf(err), err)
	}
	if len(w.order) != 0 || res.Restarted() != 0 {
		t.Errorf("restarted %v with only 4 of 5 serving and min_serving 4", w.order)
	}
	if msg := err.Error(); !strings.Contains(msg, "only 4 of 5") || !strings.Contains(msg, "node5") || !strings.Contains(reauth.HintOf(err), "--resume") {
		t.Errorf("error = %v (hint %q)", err, reauth.HintOf(err))
	}
}

func TestMinServingRefusedBeforeAnything(t *testing.T) {
	cases := []struct {
		name       string
		nodes      int
		k          reauth.Unavailable
		minServing int
		wantHint   string
	}{
		{"every node at once", 3, reauth.Unavailable{Count: 3}, 0, "--max-unavailable 2"},
		{"100 percent", 4, reauth.Unavailable{Percent: 100}, 0, "--max-unavailable 3"},
		{"min_serving leaves too few", 5, reauth.Unavailable{Count: 3}, 3, "--max-unavailable 2"},
		{"min_serving is every node", 2, reauth.Unavailable{}, 2, "lower min_serving"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan, _, rs := cluster(t, make([]string, tc.nodes)...)
			w := watchWaves(plan, nil, rs)
			opts := fastOpts(t)
			opts.MaxUnavailable, opts.MinServing = tc.k, tc.minServing
			if err := Preflight(context.Background(), plan, opts); reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(reauth.HintOf(err), tc.wantHint) {
				t.Errorf("preflight: %v (hint %q)", err, reauth.HintOf(err))
			}
			_, err := Run(context.Background(), plan, opts)
			if reauth.CodeOf(err) != reauth.ExitRefused || len(w.order) > 0 {
				t.Errorf("run: %v, restarted %v", err, w.order)
			}
		})
	}
	// The full strategy stops every node by design: no wave limit applies.
	plan, _, _ := cluster(t, "", "")
	if err := CheckWaves(plan, Options{Strategy: StrategyFull, MaxUnavailable: reauth.Unavailable{Count: 2}}); err != nil {
		t.Errorf("full strategy: %v", err)
	}
	// A single node (a Server instance) restarts alone: nothing can serve meanwhile, by nature.
	plan, _, _ = cluster(t, "")
	if err := CheckWaves(plan, Options{MaxUnavailable: reauth.Unavailable{Count: 2}}); err != nil {
		t.Errorf("single node: %v", err)
	}
	if err := CheckWaves(plan, Options{MinServing: 1}); reauth.CodeOf(err) != reauth.ExitRefused {
		t.Errorf("single node with min_serving 1: %v", err)
	}
}

func TestFailureInSecondWaveAndResume(t *testing.T) {
	plan, nodes, rs := cluster(t, "", "", "fail-start", "", "")
	w := watchWaves(plan, nodes, rs)
	opts := fastOpts(t)
	opts.StartTimeout = time.Second
	opts.MaxUnavailable = reauth.Unavailable{Percent: 40} // 2 of 5
	res, err := Run(context.Background(), plan, opts)
	if reauth.CodeOf(err) != reauth.ExitPartial {
		t.Fatalf("exit %d: %v", reauth.CodeOf(err), err)
	}
	want := []string{StatusRestarted, StatusRestarted, StatusFailed, StatusRestarted, StatusUntouched}
	for i, st := range want {
		if res.Nodes[i].Status != st {
			t.Errorf("%s: %q, want %q", res.Nodes[i].Name, res.Nodes[i].Status, st)
		}
	}
	if len(w.order) != 4 || strings.Contains(strings.Join(w.order, ","), "node5") {
		t.Errorf("restarted %v: the third wave (node5) must not start after the second failed", w.order)
	}
	if msg := err.Error(); !strings.Contains(msg, "node node3 failed") || !strings.Contains(msg, "not touched: node5") ||
		!strings.Contains(reauth.HintOf(err), "fix node3") {
		t.Errorf("error = %v (hint %q)", err, reauth.HintOf(err))
	}
	// --resume restarts exactly what did not come back: node3 (still ERROR) and node5, together.
	rs[2].fault = ""
	w.order = nil
	opts.Resume = true
	if err := Preflight(context.Background(), plan, opts); err != nil {
		t.Fatalf("preflight on resume: %v", err)
	}
	res, err = Run(context.Background(), plan, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(w.order, ","); got != "node3,node5" && got != "node5,node3" {
		t.Errorf("resume restarted %s, want node3 and node5", got)
	}
	if got := wavesOf(res); got != "node3+node5" {
		t.Errorf("resume waves = %s", got)
	}
	if res.Restarted() != 5 {
		t.Errorf("result = %+v", res.Nodes)
	}
}

func TestStopFinishesTheWaveInHand(t *testing.T) {
	plan, nodes, rs := cluster(t, "", "", "", "")
	w := watchWaves(plan, nodes, rs)
	stop, ask := reauth.NewStop()
	opts := fastOpts(t)
	opts.MaxUnavailable = reauth.Unavailable{Count: 2}
	opts.Stop = stop
	prev := rs[1].onStart
	rs[1].onStart = func() { prev(); ask() } // Ctrl-C while the first wave restarts
	res, err := Run(context.Background(), plan, opts)
	if reauth.CodeOf(err) != reauth.ExitInterrupted {
		t.Fatalf("exit %d: %v", reauth.CodeOf(err), err)
	}
	if got := wavesOf(res); got != "node1+node2" || len(w.order) != 2 {
		t.Errorf("waves = %s, restarted %v: the first wave finishes, the second never starts", got, w.order)
	}
	if res.Nodes[0].Status != StatusRestarted || res.Nodes[1].Status != StatusRestarted || res.Nodes[2].Status != StatusUntouched {
		t.Errorf("result = %+v", res.Nodes)
	}
}

// The second Ctrl-C (ctx cancelled) abandons the waits of every node of the wave in hand.
func TestSecondInterruptAbandonsTheWave(t *testing.T) {
	plan, nodes, rs := cluster(t, "hang", "hang", "", "")
	w := watchWaves(plan, nodes, rs)
	opts := fastOpts(t)
	opts.MaxUnavailable = reauth.Unavailable{Count: 2}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	down := 0
	opts.Events = func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		if e.Phase == PhaseStarting {
			if down++; down == 2 {
				cancel()
			}
		}
	}
	res, err := Run(ctx, plan, opts)
	if reauth.CodeOf(err) != reauth.ExitInterrupted {
		t.Fatalf("exit %d: %v", reauth.CodeOf(err), err)
	}
	for i, n := range res.Nodes {
		want := StatusFailed
		if i >= 2 {
			want = StatusUntouched
		}
		if n.Status != want || (i < 2 && !strings.Contains(n.Error, "interrupted")) {
			t.Errorf("%s: %q %q, want %q", n.Name, n.Status, n.Error, want)
		}
	}
	if len(w.order) != 2 {
		t.Errorf("restarted %v", w.order)
	}
}
