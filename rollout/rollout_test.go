package rollout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

// simNode is an in-process status endpoint whose state the test's restarter drives; the
// end-to-end tests with real node processes are in rollout/e2e.
type simNode struct {
	mu    sync.Mutex
	state string
	code  int
	id    int
	srv   *httptest.Server
}

func newSim(t *testing.T) *simNode {
	n := &simNode{state: "RUNNING", code: 200, id: 1}
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.mu.Lock()
		defer n.mu.Unlock()
		w.WriteHeader(n.code)
		json.NewEncoder(w).Encode(map[string]string{"state": n.state})
	}))
	t.Cleanup(n.srv.Close)
	return n
}

func (n *simNode) set(state string, code int) {
	n.mu.Lock()
	n.state, n.code = state, code
	n.mu.Unlock()
}

func (n *simNode) get() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.state
}

// simRestarter restarts a simNode the way a product does (STOPPING, STARTING, RUNNING), or
// misbehaves as told.
type simRestarter struct {
	node    *simNode
	fault   string // "", "fail-start", "hang", "ignore", "cmd-error", "identity-only"
	onStart func()
	files   map[string]bool
	stopped bool
}

func (r *simRestarter) Method() string                  { return "sim" }
func (r *simRestarter) Preflight(context.Context) error { return nil }
func (r *simRestarter) Restart(ctx context.Context, log io.Writer) error {
	if r.onStart != nil {
		r.onStart()
	}
	fmt.Fprintln(log, "restarting")
	switch r.fault {
	case "cmd-error":
		return errors.New("exit status 1")
	case "ignore":
		return nil
	case "identity-only":
		r.node.mu.Lock()
		r.node.id++
		r.node.mu.Unlock()
		return nil
	}
	r.node.set("STOPPING", 200)
	go func() {
		time.Sleep(30 * time.Millisecond)
		r.node.set("STARTING", 200)
		time.Sleep(60 * time.Millisecond)
		switch r.fault {
		case "fail-start":
			r.node.set("ERROR", 500)
		case "hang":
		default:
			r.node.set("RUNNING", 200)
		}
	}()
	return nil
}
func (r *simRestarter) Identity(context.Context) (string, error) {
	r.node.mu.Lock()
	defer r.node.mu.Unlock()
	return fmt.Sprint(r.node.id), nil
}

func jira(t *testing.T) atlassian.Product {
	p, err := atlassian.Lookup("jira")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func fastOpts(t *testing.T) Options {
	return Options{StartTimeout: 3 * time.Second, DownTimeout: 300 * time.Millisecond, PollInterval: 10 * time.Millisecond,
		MaxPoll: 20 * time.Millisecond, StableWindow: 50 * time.Millisecond, JournalPath: filepath.Join(t.TempDir(), "journal.json")}
}

func cluster(t *testing.T, faults ...string) (Plan, []*simNode, []*simRestarter) {
	plan := Plan{Product: jira(t)}
	var nodes []*simNode
	var rs []*simRestarter
	for i, f := range faults {
		n := newSim(t)
		r := &simRestarter{node: n, fault: f}
		nodes, rs = append(nodes, n), append(rs, r)
		plan.Nodes = append(plan.Nodes, Node{Name: fmt.Sprintf("node%d", i+1), URL: n.srv.URL, Restarter: r})
	}
	return plan, nodes, rs
}

func TestRunOrderAndOneAtATime(t *testing.T) {
	plan, nodes, rs := cluster(t, "", "", "")
	var order []string
	for i, r := range rs {
		i := i
		r.onStart = func() {
			order = append(order, plan.Nodes[i].Name)
			for j, other := range nodes {
				if j != i && other.get() != "RUNNING" {
					t.Errorf("restarting %s while node%d is %s", plan.Nodes[i].Name, j+1, other.get())
				}
			}
		}
	}
	var events []Event
	opts := fastOpts(t)
	opts.Events = func(e Event) { events = append(events, e) }
	res, err := Run(context.Background(), plan, opts)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, ",") != "node1,node2,node3" {
		t.Errorf("order = %v", order)
	}
	for _, n := range res.Nodes {
		if !n.Restarted || !n.WentDown || n.ReadyAfterMS < 90 || n.Status != StatusRestarted || n.Error != "" {
			t.Errorf("%+v", n)
		}
	}
	var phases []string
	for _, e := range events {
		if e.Node == "node1" {
			phases = append(phases, string(e.Phase))
		}
	}
	if got := strings.Join(phases, ","); !strings.HasPrefix(got, "restarting,down,") || !strings.HasSuffix(got, "stable,restarted") {
		t.Errorf("node1 phases = %s", got)
	}
}

func TestRunFailures(t *testing.T) {
	cases := []struct {
		name    string
		faults  []string
		code    reauth.ExitCode
		status  []string
		wantErr string
	}{
		{"second fails to start", []string{"", "fail-start", ""}, reauth.ExitPartial,
			[]string{StatusRestarted, StatusFailed, StatusUntouched}, "reports ERROR"},
		{"first fails", []string{"fail-start", "", ""}, reauth.ExitFailed,
			[]string{StatusFailed, StatusUntouched, StatusUntouched}, "ERROR"},
		{"stuck starting", []string{"", "hang"}, reauth.ExitPartial,
			[]string{StatusRestarted, StatusFailed}, "last state STARTING"},
		{"command succeeds but never restarts", []string{"ignore", ""}, reauth.ExitFailed,
			[]string{StatusFailed, StatusUntouched}, "never went down"},
		{"command fails", []string{"", "cmd-error", ""}, reauth.ExitPartial,
			[]string{StatusRestarted, StatusFailed, StatusUntouched}, "restart command failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			plan, _, _ := cluster(t, tc.faults...)
			opts := fastOpts(t)
			opts.StartTimeout = time.Second
			res, err := Run(context.Background(), plan, opts)
			if reauth.CodeOf(err) != tc.code {
				t.Fatalf("code = %d, err = %v", reauth.CodeOf(err), err)
			}
			for i, want := range tc.status {
				if res.Nodes[i].Status != want {
					t.Errorf("node%d status = %q, want %q", i+1, res.Nodes[i].Status, want)
				}
			}
			if !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "not touched") && tc.status[len(tc.status)-1] == StatusUntouched {
				t.Errorf("error = %v", err)
			}
			if !strings.Contains(reauth.HintOf(err), "--resume") {
				t.Errorf("hint = %q", reauth.HintOf(err))
			}
		})
	}
}

func TestResumeContinuesWithTheFailedNode(t *testing.T) {
	plan, _, rs := cluster(t, "", "fail-start", "")
	opts := fastOpts(t)
	opts.StartTimeout = time.Second
	if _, err := Run(context.Background(), plan, opts); reauth.CodeOf(err) != reauth.ExitPartial {
		t.Fatalf("first run: %v", err)
	}
	var restarted []string
	for i, r := range rs {
		i := i
		r.fault = ""
		r.onStart = func() { restarted = append(restarted, plan.Nodes[i].Name) }
	}
	// node2 is still down (ERROR): only --resume, which continues with it, accepts that.
	if err := Preflight(context.Background(), plan, opts); reauth.CodeOf(err) != reauth.ExitRefused {
		t.Errorf("preflight without resume accepted a down node: %v", err)
	}
	opts.Resume = true
	if err := Preflight(context.Background(), plan, opts); err != nil {
		t.Errorf("preflight on resume: %v", err)
	}
	res, err := Run(context.Background(), plan, opts)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(restarted, ",") != "node2,node3" {
		t.Errorf("resumed run restarted %v", restarted)
	}
	if res.Nodes[0].Status != StatusSkipped || res.Restarted() != 3 {
		t.Errorf("result = %+v", res.Nodes)
	}
	// A journal of another product is refused.
	other := plan
	other.Product, _ = atlassian.Lookup("confluence")
	if _, err := Run(context.Background(), other, opts); reauth.CodeOf(err) != reauth.ExitRefused {
		t.Errorf("foreign journal: %v", err)
	}
	opts.JournalPath = filepath.Join(t.TempDir(), "none.json")
	if _, err := Run(context.Background(), plan, opts); reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "nothing to resume") {
		t.Errorf("missing journal: %v", err)
	}
}

func TestIdentityProvesAQuickRestart(t *testing.T) {
	plan, _, _ := cluster(t, "identity-only", "ignore")
	opts := fastOpts(t)
	res, err := Run(context.Background(), plan, opts)
	if reauth.CodeOf(err) != reauth.ExitPartial {
		t.Fatalf("err = %v", err)
	}
	if n := res.Nodes[0]; !n.Restarted || n.WentDown {
		t.Errorf("node1 = %+v: the changed identity should prove the restart", n)
	}
	if !strings.Contains(res.Nodes[1].Error, "never went down") {
		t.Errorf("node2 = %+v", res.Nodes[1])
	}
}

func TestStopBeforeNextNode(t *testing.T) {
	plan, _, rs := cluster(t, "", "", "")
	stop, fire := reauth.NewStop()
	rs[0].onStart = fire // Ctrl-C while node1 restarts
	opts := fastOpts(t)
	opts.Stop = stop
	res, err := Run(context.Background(), plan, opts)
	if reauth.CodeOf(err) != reauth.ExitInterrupted {
		t.Fatalf("err = %v", err)
	}
	if res.Nodes[0].Status != StatusRestarted || res.Nodes[1].Status != StatusUntouched || res.Nodes[2].Status != StatusUntouched {
		t.Errorf("result = %+v", res.Nodes)
	}
	// A cancelled context (second Ctrl-C) abandons the wait at once.
	plan, _, rs = cluster(t, "hang", "")
	ctx, cancel := context.WithCancel(context.Background())
	rs[0].onStart = cancel
	opts = fastOpts(t)
	opts.StartTimeout = time.Minute
	start := time.Now()
	res, err = Run(ctx, plan, opts)
	if reauth.CodeOf(err) != reauth.ExitInterrupted || time.Since(start) > 10*time.Second || res.Nodes[1].Status != StatusUntouched {
		t.Errorf("hard cancel: %v after %v, %+v", err, time.Since(start), res.Nodes)
	}
}

func TestDrainHooks(t *testing.T) {
	plan, _, _ := cluster(t, "", "")
	out := filepath.Join(t.TempDir(), "hooks.log")
	plan.Drain = Drain{Before: `echo "out $REAUTH_NODE $REAUTH_NODE_URL" >> ` + out, After: `echo "in $REAUTH_NODE" >> ` + out}
	if _, err := Run(context.Background(), plan, fastOpts(t)); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 4 || lines[0] != "out node1 "+plan.Nodes[0].URL || lines[1] != "in node1" || lines[2] != "out node2 "+plan.Nodes[1].URL {
		t.Errorf("hooks ran as %q", lines)
	}
	// A failing before-hook leaves the node untouched.
	plan, _, rs := cluster(t, "", "")
	called := false
	rs[0].onStart = func() { called = true }
	plan.Drain = Drain{Before: "exit 3"}
	res, err := Run(context.Background(), plan, fastOpts(t))
	if reauth.CodeOf(err) != reauth.ExitFailed || called || res.Nodes[0].WentDown || !strings.Contains(res.Nodes[0].Error, "drain") {
		t.Errorf("failing hook: %v, called=%v, %+v", err, called, res.Nodes[0])
	}
}

func TestPreflight(t *testing.T) {
	plan, nodes, _ := cluster(t, "", "")
	if err := Preflight(context.Background(), plan, fastOpts(t)); err != nil {
		t.Fatal(err)
	}
	nodes[1].set("STARTING", 200)
	err := Preflight(context.Background(), plan, fastOpts(t))
	if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "node2: not RUNNING (STARTING)") {
		t.Errorf("err = %v", err)
	}
	one, _, _ := cluster(t, "")
	var warned []string
	opts := fastOpts(t)
	opts.Events = func(e Event) {
		if e.Phase == PhaseWarning {
			warned = append(warned, e.Message)
		}
	}
	if err := Preflight(context.Background(), one, opts); err != nil || len(warned) != 1 || !strings.Contains(warned[0], "single node") {
		t.Errorf("1 node: %v %q", err, warned)
	}
}

// tomcatSim is a node whose Tomcat persists sessions: Stop writes SESSIONS.ser (as Tomcat does at a
// graceful stop) and Start loads it back (and deletes it), so sessions survive unless reauth removes
// the file while the node is down.
type tomcatSim struct {
	simRestarter
	file         string
	restored     bool
	removedWhile string
}

func (r *tomcatSim) CanStopStart() bool { return true }
func (r *tomcatSim) Stop(ctx context.Context, log io.Writer) error {
	r.node.set("STOPPING", 503)
	os.MkdirAll(filepath.Dir(r.file), 0o755)
	return os.WriteFile(r.file, []byte("sessions"), 0o600)
}
func (r *tomcatSim) Start(ctx context.Context, log io.Writer) error {
	if _, err := os.Stat(r.file); err == nil {
		r.restored = true
		os.Remove(r.file)
	}
	r.node.set("STARTING", 200)
	go func() { time.Sleep(50 * time.Millisecond); r.node.set("RUNNING", 200) }()
	return nil
}
func (r *tomcatSim) ReadFile(ctx context.Context, p string) ([]byte, error) { return os.ReadFile(p) }
func (r *tomcatSim) RemoveFiles(ctx context.Context, paths []string, log io.Writer) error {
	r.removedWhile = r.node.get()
	for _, p := range paths {
		os.Remove(p)
	}
	return nil
}

func TestClearPersistedSessions(t *testing.T) {
	install := t.TempDir()
	os.MkdirAll(filepath.Join(install, "conf"), 0o755)
	os.WriteFile(filepath.Join(install, "conf", "server.xml"), []byte(`<Server><Service><Engine name="Catalina"><Host name="localhost">
<Context path="" docBase="x"><Manager pathname="SESSIONS.ser"/></Context></Host></Engine></Service></Server>`), 0o644)
	n := newSim(t)
	r := &tomcatSim{simRestarter: simRestarter{node: n}, file: filepath.Join(install, "work/Catalina/localhost/ROOT/SESSIONS.ser")}
	plan := Plan{Product: jira(t), Nodes: []Node{{Name: "node1", URL: n.srv.URL, Install: install, Restarter: r}}}
	opts := fastOpts(t)
	err := Preflight(context.Background(), plan, opts)
	if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "--clear-persisted-sessions") {
		t.Fatalf("persistence on, no flag: %v", err)
	}
	if want := `set pathname="" on the existing <Manager> at ` + filepath.Join(install, "conf", "server.xml") + ":2"; !strings.Contains(err.Error(), want) {
		t.Errorf("refusal %q does not say %q", err, want)
	}
	opts.ClearPersistedSessions = true
	if err := Preflight(context.Background(), plan, opts); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), plan, opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.restored || r.removedWhile != "STOPPING" || !res.Nodes[0].WentDown {
		t.Errorf("restored=%v, removed while %q: SESSIONS.ser must be gone before the start", r.restored, r.removedWhile)
	}
	if got := res.Nodes[0].SessionFiles; len(got) != 1 || got[0] != r.file {
		t.Errorf("the node's result says it removed %q, want [%s]", got, r.file)
	}
}

// A node in ERROR before its restart (a failed earlier start) counts as down, not as a failure:
// it fails only if it keeps reporting ERROR, and nothing else, after its restart command returned.
func TestErrorFromBeforeTheRestart(t *testing.T) {
	plan, nodes, rs := cluster(t, "")
	nodes[0].set("ERROR", 500)
	opts := fastOpts(t)
	res, err := Run(context.Background(), plan, opts)
	if err != nil || !res.Nodes[0].Restarted {
		t.Fatalf("a node restarted out of ERROR: %v %+v", err, res.Nodes)
	}
	nodes[0].set("ERROR", 500)
	rs[0].fault = "ignore" // the restart command returns, the node stays in ERROR
	res, err = Run(context.Background(), plan, opts)
	if err == nil || !strings.Contains(res.Nodes[0].Error, "still reports ERROR") {
		t.Fatalf("a node that stayed in ERROR: %v %+v", err, res.Nodes)
	}
}
