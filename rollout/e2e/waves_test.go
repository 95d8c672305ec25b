package e2e

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/testenv"
	"github.com/reauth/reauth/rollout"
	"github.com/reauth/reauth/rollout/sshmethod"
)

// phases records, in order, each node's restart issued ("start:node") and gate passed ("node").
type phases struct {
	mu  sync.Mutex
	seq []string
}

func (p *phases) event(e rollout.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Phase {
	case rollout.PhaseRestarting:
		p.seq = append(p.seq, "start:"+e.Node)
	case rollout.PhaseDone:
		p.seq = append(p.seq, e.Node)
	}
}

// before says whether a came before b in the sequence.
func (p *phases) before(a, b string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	ia, ib := -1, -1
	for i, s := range p.seq {
		if s == a && ia < 0 {
			ia = i
		}
		if s == b && ib < 0 {
			ib = i
		}
	}
	return ia >= 0 && ib >= 0 && ia < ib
}

func wavesOf(res rollout.Result) map[string]int {
	w := map[string]int{}
	for _, n := range res.Nodes {
		w[n.Name] = n.Wave
	}
	return w
}

// Five real nodes in waves of 2: node1+node2, node3+node4, node5; a wave starts only when the one
// before is RUNNING again, and the nodes themselves (sampled, not reauth's word) never had fewer
// than 3 RUNNING, and did have 3: two were down together.
func TestWavesOfTwoOnFiveRealNodes(t *testing.T) {
	c, plan, _ := up(t, 5, false)
	before := c.PIDs()
	var p phases
	o := opts(t)
	o.MaxUnavailable = reauth.Unavailable{Count: 2}
	o.Events = p.event
	if err := rollout.Preflight(context.Background(), plan, o); err != nil {
		t.Fatal(err)
	}
	s := sample(plan)
	res, err := rollout.Run(context.Background(), plan, o)
	min, samples := s.finish()
	if err != nil {
		t.Fatal(err)
	}
	if min != 3 || samples < 20 {
		t.Errorf("at least %d of 5 nodes RUNNING at every sample (%d samples): want 3 (waves of 2, no more)", min, samples)
	}
	want := map[string]int{"node1": 1, "node2": 1, "node3": 2, "node4": 2, "node5": 3}
	if got := wavesOf(res); len(got) != 5 || got["node1"] != 1 || got["node2"] != 1 || got["node3"] != 2 || got["node4"] != 2 || got["node5"] != 3 {
		t.Errorf("waves = %v, want %v", got, want)
	}
	for _, c := range [][2]string{{"node1", "start:node3"}, {"node2", "start:node4"}, {"node3", "start:node5"}, {"node4", "start:node5"}} {
		if !p.before(c[0], c[1]) {
			t.Errorf("%s passed its gate after %s: %v", c[0], c[1], p.seq)
		}
	}
	after := c.PIDs()
	for _, n := range res.Nodes {
		if !n.Restarted || n.DownAt == nil || after[n.Name] == before[n.Name] {
			t.Errorf("%+v: pid %d -> %d", n, before[n.Name], after[n.Name])
		}
	}
}

// node3 fails to start in the second wave: node4 (its wave) finishes, the third wave (node5) never
// starts, exit 3; --resume restarts node3 and node5 together and nothing else.
func TestFailureInTheSecondWaveAndResume(t *testing.T) {
	t.Parallel()
	c, plan, _ := up(t, 5, false)
	if err := c.SetFault("node3", sandbox.FaultFailNextStart); err != nil {
		t.Fatal(err)
	}
	before := c.PIDs()
	o := opts(t)
	o.MaxUnavailable = reauth.Unavailable{Count: 2}
	res, err := rollout.Run(context.Background(), plan, o)
	if reauth.CodeOf(err) != reauth.ExitPartial {
		t.Fatalf("exit %d: %v", reauth.CodeOf(err), err)
	}
	want := []string{rollout.StatusRestarted, rollout.StatusRestarted, rollout.StatusFailed, rollout.StatusRestarted, rollout.StatusUntouched}
	for i, w := range want {
		if res.Nodes[i].Status != w {
			t.Errorf("%s: %q, want %q (%s)", res.Nodes[i].Name, res.Nodes[i].Status, w, res.Nodes[i].Error)
		}
	}
	mid := c.PIDs()
	if mid["node5"] != before["node5"] {
		t.Errorf("node5 (third wave) was touched: pid %d -> %d", before["node5"], mid["node5"])
	}
	if !strings.Contains(err.Error(), "node node3 failed") || !strings.Contains(reauth.HintOf(err), "--resume") {
		t.Errorf("error = %v (hint %q)", err, reauth.HintOf(err))
	}
	o.Resume = true
	if err := rollout.Preflight(context.Background(), plan, o); err != nil {
		t.Fatalf("preflight on resume: %v", err)
	}
	res, err = rollout.Run(context.Background(), plan, o)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	after := c.PIDs()
	for _, name := range []string{"node1", "node2", "node4"} {
		if after[name] != mid[name] {
			t.Errorf("resume restarted %s again", name)
		}
	}
	if after["node5"] == mid["node5"] || after["node3"] == 0 || res.Restarted() != 5 {
		t.Errorf("resume did not restart node3 and node5: %v -> %v, %+v", mid, after, res.Nodes)
	}
	if w := wavesOf(res); w["node3"] != 1 || w["node5"] != 1 {
		t.Errorf("resume waves = %v, want node3 and node5 together", w)
	}
}

// Ctrl-C while the first wave restarts: both of its nodes finish, the second wave never starts.
func TestInterruptFinishesTheWaveInHand(t *testing.T) {
	t.Parallel()
	c, plan, _ := up(t, 4, false)
	before := c.PIDs()
	stop, fire := reauth.NewStop()
	var once sync.Once
	o := opts(t)
	o.MaxUnavailable = reauth.Unavailable{Count: 2}
	o.Stop = stop
	o.Events = func(e rollout.Event) {
		if e.Phase == rollout.PhaseDown {
			once.Do(fire)
		}
	}
	res, err := rollout.Run(context.Background(), plan, o)
	if reauth.CodeOf(err) != reauth.ExitInterrupted {
		t.Fatalf("exit %d: %v", reauth.CodeOf(err), err)
	}
	after := c.PIDs()
	for i, n := range res.Nodes {
		restarted := i < 2
		if n.Restarted != restarted || (after[n.Name] != before[n.Name]) != restarted {
			t.Errorf("%s: restarted %v (pid %d -> %d), want %v", n.Name, n.Restarted, before[n.Name], after[n.Name], restarted)
		}
	}
}

// Waves over SSH (the real sshd on 127.0.0.1): two sessions at once, each restarting its node.
func TestWavesOverSSH(t *testing.T) {
	s := testenv.SSHServer(t)
	t.Parallel()
	c, plan, _ := up(t, 4, false)
	host, port, _ := net.SplitHostPort(s.Addr)
	p, _ := strconv.Atoi(port)
	exe := testenv.Binary(t)
	for i := range plan.Nodes {
		n := &plan.Nodes[i]
		n.Restarter = sshmethod.New(sshmethod.Config{Host: host, Port: p, User: s.User, KeyFiles: []string{s.KeyFile},
			KnownHosts: s.KnownHosts, Command: exe + " sandbox restart-node --dir " + c.Dir() + " --node " + n.Name})
		n.Install = ""
	}
	before := c.PIDs()
	o := opts(t)
	o.MaxUnavailable = reauth.Unavailable{Percent: 50}
	if err := rollout.Preflight(context.Background(), plan, o); err != nil {
		t.Fatal(err)
	}
	sm := sample(plan)
	res, err := rollout.Run(context.Background(), plan, o)
	min, _ := sm.finish()
	if err != nil {
		t.Fatal(err)
	}
	if min < 2 {
		t.Errorf("only %d of 4 nodes RUNNING at one moment: waves of 2 must leave 2", min)
	}
	after := c.PIDs()
	w := wavesOf(res)
	for _, n := range res.Nodes {
		if !n.Restarted || after[n.Name] == before[n.Name] {
			t.Errorf("%+v (pid %d -> %d)", n, before[n.Name], after[n.Name])
		}
	}
	if w["node1"] != 1 || w["node2"] != 1 || w["node3"] != 2 || w["node4"] != 2 {
		t.Errorf("waves = %v", w)
	}
}
