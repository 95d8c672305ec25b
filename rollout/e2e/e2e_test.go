package e2e

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/health"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/rollout"
	"github.com/reauth/reauth/rollout/methods"
	"github.com/reauth/reauth/rollout/sshmethod"
)

// up starts a sandbox of n jira nodes (real processes of the reauth binary) and returns it with
// the rollout plan built from the reauth.yaml it wrote.
func up(t *testing.T, n int, persistence bool) (*sandbox.Cluster, rollout.Plan, *inventory.Inventory) {
	t.Helper()
	ctx := context.Background()
	c := sandboxtest.Up(t, sandbox.Options{Nodes: n, Users: 2, StartupDelay: time.Second, Persistence: persistence})
	inv, err := inventory.Load(c.InventoryPath())
	if err != nil {
		t.Fatalf("the sandbox's reauth.yaml does not parse: %v", err)
	}
	plan, closeAll, err := methods.Plan(ctx, inv, &inv.Products[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeAll)
	return c, plan, inv
}

func opts(t *testing.T) rollout.Options {
	return rollout.Options{StartTimeout: 20 * time.Second, DownTimeout: 2 * time.Second, StableWindow: 300 * time.Millisecond,
		MaxPoll: 200 * time.Millisecond, JournalPath: t.TempDir() + "/journal.json"}
}

// sampler probes every node every 50 ms and keeps the smallest number seen RUNNING at once.
type sampler struct {
	mu      sync.Mutex
	min     int
	samples int
	stop    chan struct{}
	done    sync.WaitGroup
}

func sample(plan rollout.Plan) *sampler {
	s := &sampler{min: len(plan.Nodes), stop: make(chan struct{})}
	client := &http.Client{Timeout: time.Second}
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		for {
			select {
			case <-s.stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			running := 0
			for _, n := range plan.Nodes {
				if health.Probe(context.Background(), client, plan.Product, n.URL).Ready {
					running++
				}
			}
			s.mu.Lock()
			s.samples++
			if running < s.min {
				s.min = running
			}
			s.mu.Unlock()
		}
	}()
	return s
}

func (s *sampler) finish() (min, samples int) {
	close(s.stop)
	s.done.Wait()
	return s.min, s.samples
}

func TestRollingRestartOfRealNodes(t *testing.T) {
	c, plan, _ := up(t, 3, false)
	before := c.PIDs()
	var mu sync.Mutex
	var order []string
	o := opts(t)
	o.Events = func(e rollout.Event) {
		if e.Phase == rollout.PhaseRestarting {
			mu.Lock()
			order = append(order, e.Node)
			mu.Unlock()
		}
	}
	if err := rollout.Preflight(context.Background(), plan, o); err != nil {
		t.Fatal(err)
	}
	s := sample(plan)
	t0 := time.Now()
	res, err := rollout.Run(context.Background(), plan, o)
	t.Logf("run took %v: %+v", time.Since(t0), res.Nodes)
	min, samples := s.finish()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, ",") != "node1,node2,node3" {
		t.Errorf("order = %v", order)
	}
	if min < len(plan.Nodes)-1 || samples < 20 {
		t.Errorf("at one moment only %d of %d nodes were RUNNING (%d samples)", min, len(plan.Nodes), samples)
	}
	after := c.PIDs()
	for _, n := range res.Nodes {
		if !n.Restarted || !n.WentDown || n.ReadyAfterMS < 1000 {
			t.Errorf("%+v: every node has a 1 s start-up, so it must have been seen down and ready after >= 1 s", n)
		}
		if after[n.Name] == before[n.Name] || after[n.Name] == 0 {
			t.Errorf("%s: pid %d -> %d: not a new process", n.Name, before[n.Name], after[n.Name])
		}
	}
}

func TestFailedStartStopsTheRunAndResumeFinishes(t *testing.T) {
	t.Parallel()
	c, plan, _ := up(t, 3, false)
	if err := c.SetFault("node2", sandbox.FaultFailNextStart); err != nil {
		t.Fatal(err)
	}
	before := c.PIDs()
	o := opts(t)
	o.StartTimeout = 6 * time.Second
	res, err := rollout.Run(context.Background(), plan, o)
	if reauth.CodeOf(err) != reauth.ExitPartial {
		t.Fatalf("exit %d: %v", reauth.CodeOf(err), err)
	}
	want := []string{rollout.StatusRestarted, rollout.StatusFailed, rollout.StatusUntouched}
	for i, w := range want {
		if res.Nodes[i].Status != w {
			t.Errorf("%s: %q, want %q", res.Nodes[i].Name, res.Nodes[i].Status, w)
		}
	}
	if after := c.PIDs(); after["node3"] != before["node3"] {
		t.Errorf("node3 was touched: pid %d -> %d", before["node3"], after["node3"])
	}
	msg := err.Error()
	if !strings.Contains(msg, "restarted: node1") || !strings.Contains(msg, "failed: node2") || !strings.Contains(msg, "not touched: node3") {
		t.Errorf("error does not say what happened to each node: %s", msg)
	}
	// The operator brings node2 back; --resume continues with it and skips node1.
	if err := c.StartNode(context.Background(), "node2"); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitRunning(context.Background(), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	mid := c.PIDs()
	o.Resume = true
	res, err = rollout.Run(context.Background(), plan, o)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if res.Nodes[0].Status != rollout.StatusSkipped || !res.Nodes[1].Restarted || !res.Nodes[2].Restarted {
		t.Errorf("resume = %+v", res.Nodes)
	}
	if after := c.PIDs(); after["node1"] != mid["node1"] || after["node3"] == mid["node3"] {
		t.Errorf("resume restarted node1 again or not node3: %v -> %v", mid, after)
	}
}

func TestStuckAndFakeRestarts(t *testing.T) {
	t.Parallel()
	c, plan, _ := up(t, 2, false)
	cases := []struct {
		fault sandbox.Fault
		want  string
	}{
		{sandbox.FaultHangStarting, "not RUNNING within the start timeout 4s (last state STARTING)"},
		{sandbox.FaultIgnoreRestart, "never went down"},
	}
	for _, tc := range cases {
		t.Run(string(tc.fault), func(t *testing.T) {
			if err := c.SetFault("node1", tc.fault); err != nil {
				t.Fatal(err)
			}
			before := c.PIDs()
			o := opts(t)
			o.StartTimeout = 4 * time.Second
			o.DownTimeout = time.Second
			res, err := rollout.Run(context.Background(), plan, o)
			if reauth.CodeOf(err) != reauth.ExitFailed {
				t.Fatalf("exit %d: %v", reauth.CodeOf(err), err)
			}
			if !strings.Contains(res.Nodes[0].Error, tc.want) || res.Nodes[1].Status != rollout.StatusUntouched {
				t.Errorf("result = %+v", res.Nodes)
			}
			if c.PIDs()["node2"] != before["node2"] {
				t.Error("node2 was touched")
			}
			// Clean up: clear the fault and bring node1 back.
			c.SetFault("node1", sandbox.FaultNone)
			if err := c.RestartNode(context.Background(), "node1"); err != nil {
				t.Fatal(err)
			}
			if err := c.WaitRunning(context.Background(), 20*time.Second); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Ctrl-C during node1: node1 is still waited for, then the run stops; node2 and node3 untouched.
func TestInterruptStopsBeforeTheNextNode(t *testing.T) {
	t.Parallel()
	c, plan, _ := up(t, 3, false)
	before := c.PIDs()
	stop, fire := reauth.NewStop()
	var once sync.Once
	o := opts(t)
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
	if !res.Nodes[0].Restarted || res.Nodes[1].Status != rollout.StatusUntouched || res.Nodes[2].Status != rollout.StatusUntouched {
		t.Errorf("result = %+v", res.Nodes)
	}
	after := c.PIDs()
	if after["node2"] != before["node2"] || after["node3"] != before["node3"] {
		t.Errorf("nodes after the interrupt were touched: %v -> %v", before, after)
	}
}

// Tomcat persistence on (the sandbox's server.xml says SESSIONS.ser): refused before anything.
func TestPersistenceRefusedInPreflight(t *testing.T) {
	t.Parallel()
	c, plan, _ := up(t, 2, true)
	before := c.PIDs()
	for _, clear := range []bool{false, true} {
		o := opts(t)
		o.ClearPersistedSessions = clear
		err := rollout.Preflight(context.Background(), plan, o)
		if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "SESSIONS.ser") {
			t.Fatalf("clear=%v: %v", clear, err)
		}
		if clear && !strings.Contains(err.Error(), "separate stop and start") {
			t.Errorf("clear with a single restart command: %v", err)
		}
	}
	if after := c.PIDs(); after["node1"] != before["node1"] || after["node2"] != before["node2"] {
		t.Error("preflight touched a node")
	}
}

// The restart command runs over SSH (the real sshd on 127.0.0.1) and restarts a real node.
func TestSSHRestartOfASandboxNode(t *testing.T) {
	s := testenv.SSHServer(t)
	t.Parallel()
	c, plan, _ := up(t, 2, false)
	host, port, _ := net.SplitHostPort(s.Addr)
	p, _ := strconv.Atoi(port)
	exe := testenv.Binary(t)
	for i := range plan.Nodes {
		n := &plan.Nodes[i]
		n.Restarter = sshmethod.New(sshmethod.Config{Host: host, Port: p, User: s.User, KeyFiles: []string{s.KeyFile},
			KnownHosts: s.KnownHosts, Command: exe + " sandbox restart-node --dir " + c.Dir() + " --node " + n.Name})
		n.Install = "" // the persistence check over SSH is covered in sshmethod
	}
	before := c.PIDs()
	o := opts(t)
	if err := rollout.Preflight(context.Background(), plan, o); err != nil {
		t.Fatal(err)
	}
	res, err := rollout.Run(context.Background(), plan, o)
	if err != nil {
		t.Fatal(err)
	}
	after := c.PIDs()
	for _, n := range res.Nodes {
		if !n.Restarted || !n.WentDown || after[n.Name] == before[n.Name] {
			t.Errorf("%+v (pid %d -> %d)", n, before[n.Name], after[n.Name])
		}
	}
}
