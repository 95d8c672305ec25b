package rollout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reauth/reauth"
)

// fullSim is a cluster whose nodes stop and start separately; it records, at every start, which
// nodes were up: a full stop must start nothing while any node still runs.
type fullSim struct {
	mu         sync.Mutex
	nodes      []*simNode
	upAtStart  []int // nodes up when each Start was issued
	stops      map[int]int
	failStop   map[int]bool
	failStart  map[int]bool
	startOrder []int
}

type fullRestarter struct {
	c *fullSim
	i int
}

func (r *fullRestarter) Method() string                  { return "exec" }
func (r *fullRestarter) Preflight(context.Context) error { return nil }
func (r *fullRestarter) Restart(context.Context, io.Writer) error {
	return errors.New("a full stop must not use the restart command")
}
func (r *fullRestarter) CanStopStart() bool { return true }
func (r *fullRestarter) Stop(ctx context.Context, log io.Writer) error {
	r.c.mu.Lock()
	r.c.stops[r.i]++
	fail := r.c.failStop[r.i]
	r.c.mu.Unlock()
	if fail {
		return errors.New("exit status 1")
	}
	r.c.nodes[r.i].set("STOPPED", 503)
	return nil
}
func (r *fullRestarter) Start(ctx context.Context, log io.Writer) error {
	r.c.mu.Lock()
	up := 0
	for _, n := range r.c.nodes {
		if n.get() == "RUNNING" {
			up++
		}
	}
	r.c.upAtStart = append(r.c.upAtStart, up)
	r.c.startOrder = append(r.c.startOrder, r.i)
	fail := r.c.failStart[r.i]
	r.c.mu.Unlock()
	n := r.c.nodes[r.i]
	n.set("STARTING", 503)
	go func() {
		time.Sleep(30 * time.Millisecond)
		if fail {
			n.set("ERROR", 500)
		} else {
			n.set("RUNNING", 200)
		}
	}()
	return nil
}

// checkStarts: the first start came with every node down, and each next one only once the nodes
// before it were back (one at a time, behind the health gates).
func checkStarts(t *testing.T, c *fullSim) {
	t.Helper()
	if len(c.upAtStart) == 0 || c.upAtStart[0] != 0 {
		t.Fatalf("nodes up at each start: %v: the first start must come with every node down", c.upAtStart)
	}
	for i := 1; i < len(c.upAtStart); i++ {
		if c.upAtStart[i] != c.upAtStart[i-1]+1 {
			t.Errorf("nodes up at each start: %v: want one more each time", c.upAtStart)
		}
	}
}

func newFullSim(t *testing.T, k int) (*fullSim, Plan) {
	c := &fullSim{stops: map[int]int{}, failStop: map[int]bool{}, failStart: map[int]bool{}}
	plan := Plan{Product: jira(t)}
	for i := 0; i < k; i++ {
		n := newSim(t)
		c.nodes = append(c.nodes, n)
		plan.Nodes = append(plan.Nodes, Node{Name: fmt.Sprintf("node%d", i+1), URL: n.srv.URL, Restarter: &fullRestarter{c: c, i: i}})
	}
	return c, plan
}

func TestFullStopStartsNothingWhileANodeRuns(t *testing.T) {
	c, plan := newFullSim(t, 3)
	opts := fastOpts(t)
	opts.Strategy = StrategyFull
	var phases []string
	opts.Events = func(e Event) { phases = append(phases, e.Node+":"+string(e.Phase)) }
	if err := Preflight(context.Background(), plan, opts); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), plan, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Restarted() != 3 {
		t.Fatalf("restarted %d: %+v", res.Restarted(), res.Nodes)
	}
	checkStarts(t, c)
	all := strings.Join(phases, " ")
	if !strings.Contains(all, "*:all-down") || strings.Index(all, "*:all-down") > strings.Index(all, "node1:restarting") {
		t.Errorf("no all-down before the first start: %s", all)
	}
}

// A failure while stopping leaves some nodes down: the error names them and says what --resume
// does; the resume stops the rest (not the ones still down) and then starts every node.
func TestFullStopFailureThenResume(t *testing.T) {
	c, plan := newFullSim(t, 3)
	c.failStop[1] = true
	opts := fastOpts(t)
	opts.Strategy = StrategyFull
	res, err := Run(context.Background(), plan, opts)
	if reauth.CodeOf(err) != reauth.ExitPartial {
		t.Fatalf("code %d: %v", reauth.CodeOf(err), err)
	}
	hint := reauth.HintOf(err)
	if !strings.Contains(hint, "DOWN now: node1") || !strings.Contains(hint, "--resume") {
		t.Errorf("hint %q: want the down node named and --resume", hint)
	}
	if res.Nodes[0].Status != StatusStopped || res.Nodes[2].Status != StatusUntouched {
		t.Fatalf("%+v", res.Nodes)
	}
	if !strings.Contains(err.Error(), "stopped, not started again: node1") {
		t.Errorf("error %q does not say node1 is stopped", err)
	}
	// A rolling resume of a full stop is refused.
	rolling := opts
	rolling.Strategy, rolling.Resume = "", true
	if _, err := Run(context.Background(), plan, rolling); reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(reauth.HintOf(err), "--restart-strategy full") {
		t.Fatalf("rolling resume of a full stop: %v", err)
	}
	// Preflight on resume accepts the nodes the journal says were stopped.
	c.failStop[1] = false
	opts.Resume = true
	if err := Preflight(context.Background(), plan, opts); err != nil {
		t.Fatalf("preflight on resume: %v", err)
	}
	res, err = Run(context.Background(), plan, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Restarted() != 3 || c.stops[0] != 1 || c.stops[1] != 2 || c.stops[2] != 1 {
		t.Fatalf("restarted %d, stops %v: %+v", res.Restarted(), c.stops, res.Nodes)
	}
	checkStarts(t, c)
}

// A failure while starting: every node was down at once already, so --resume only starts the
// nodes not yet back.
func TestFullStartFailureThenResume(t *testing.T) {
	c, plan := newFullSim(t, 3)
	c.failStart[1] = true
	opts := fastOpts(t)
	opts.Strategy = StrategyFull
	res, err := Run(context.Background(), plan, opts)
	if reauth.CodeOf(err) != reauth.ExitPartial || !strings.Contains(reauth.HintOf(err), "DOWN now: node2, node3") {
		t.Fatalf("%v (hint %q)", err, reauth.HintOf(err))
	}
	if res.Nodes[0].Status != StatusRestarted || res.Nodes[2].Status != StatusStopped {
		t.Fatalf("%+v", res.Nodes)
	}
	c.failStart[1] = false
	opts.Resume = true
	res, err = Run(context.Background(), plan, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Nodes[0].Status != StatusSkipped || res.Restarted() != 3 || c.stops[0] != 1 || c.stops[1] != 1 {
		t.Fatalf("stops %v: %+v", c.stops, res.Nodes)
	}
	if fmt.Sprint(c.startOrder) != "[0 1 1 2]" {
		t.Errorf("start order %v, want node1, node2, node2 again, node3", c.startOrder)
	}
}

// Methods that cannot stop every node are refused before anything: a single restart command,
// and Kubernetes (deleting pods does not stop them; scale-to-zero is not in the RBAC role).
func TestFullStopRefusedWithoutStopStart(t *testing.T) {
	plan, _, _ := cluster(t, "", "")
	opts := fastOpts(t)
	opts.Strategy = StrategyFull
	err := Preflight(context.Background(), plan, opts)
	if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "stop: ..., start: ...") {
		t.Fatalf("restart command only: %v", err)
	}
	plan.Nodes[0].Restarter = kubeLike{plan.Nodes[0].Restarter}
	err = Preflight(context.Background(), plan, opts)
	if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "RBAC") || !strings.Contains(err.Error(), "--replicas=0") {
		t.Fatalf("kubernetes: %v", err)
	}
	opts.Strategy = "half"
	if err := Preflight(context.Background(), plan, opts); reauth.CodeOf(err) != reauth.ExitUsage {
		t.Fatalf("unknown strategy: %v", err)
	}
}

type kubeLike struct{ Restarter }

func (kubeLike) Method() string { return "kubernetes" }
