package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
	"github.com/reauth/reauth/rollout"
)

// restartSandbox starts a 3-node sandbox and makes its reauth.yaml fast to gate (short stable window).
func restartSandbox(t *testing.T, nodes int) (*sandbox.Cluster, string) {
	t.Helper()
	c := sandboxtest.Up(t, sandbox.Options{Nodes: nodes, Users: 1, StartupDelay: 500 * time.Millisecond})
	b, err := os.ReadFile(c.InventoryPath())
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.InventoryPath()
	if err := os.WriteFile(cfg, append([]byte("defaults: {stable_window: 200ms, poll_interval: 200ms, start_timeout: 5s}\n"), b...), 0o600); err != nil {
		t.Fatal(err)
	}
	return c, cfg
}

type restartJSON struct {
	Product   string `json:"product"`
	Restarted int    `json:"restarted"`
	Nodes     []struct {
		Name         string `json:"name"`
		Restarted    bool   `json:"restarted"`
		WentDown     bool   `json:"went_down"`
		ReadyAfterMS int64  `json:"ready_after_ms"`
		Error        string `json:"error"`
		Status       string `json:"status"`
	} `json:"nodes"`
}

func runBinary(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(testenv.Binary(t), args...)
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+testStateHome(t))
	stdout, stderr, code := testenv.Output(t, cmd)
	return code, stdout, stderr
}

func TestRestartCLI(t *testing.T) {
	c, cfg := restartSandbox(t, 3)
	stateDir := filepath.Join(testStateHome(t), "reauth")

	// No terminal and no --yes: refused, nothing restarted.
	code, _, stderr := runBinary(t, "restart", "--config", cfg)
	if code != 4 || !strings.Contains(stderr, "--yes") {
		t.Fatalf("no confirmation: exit %d\n%s", code, stderr)
	}
	// Dry run: the plan, no restart.
	code, out, stderr := runBinary(t, "restart", "--config", cfg, "--dry-run", "--json")
	var dry restartJSON
	if code != 0 || json.Unmarshal([]byte(out), &dry) != nil || len(dry.Nodes) != 3 || dry.Restarted != 0 || !strings.Contains(stderr, "1. node1") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, stderr)
	}
	code, _, stderr = runBinary(t, "restart", "--config", cfg, "--dry-run", "--max-unavailable", "2")
	if code != 0 || !strings.Contains(stderr, "in waves of up to 2 node(s)") || !strings.Contains(stderr, "(wave 2)") ||
		!strings.Contains(stderr, "exposure: old sessions dead on every node about") {
		t.Fatalf("dry run in waves: exit %d\n%s", code, stderr)
	}

	// A node that fails to start: exit 3, JSON says which node did what.
	if err := c.SetFault("node2", sandbox.FaultFailNextStart); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runBinary(t, "restart", "--config", cfg, "--yes", "--json")
	var res restartJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json output is not one JSON object: %v\n%s", err, out)
	}
	if code != 3 || res.Product != "jira" || res.Nodes[0].Status != "restarted" || !res.Nodes[0].WentDown || res.Nodes[0].ReadyAfterMS < 500 ||
		res.Nodes[1].Status != "failed" || res.Nodes[1].Error == "" || res.Nodes[2].Status != "untouched" || res.Nodes[2].Restarted {
		t.Fatalf("exit %d, %+v\n%s", code, res, stderr)
	}
	// The journal is in the state directory (the one `reauth run` uses), not beside the config.
	if _, err := os.Stat(reauth.StateDir{Path: stateDir}.RestartJournal(cfg, "jira")); err != nil {
		t.Errorf("restart journal in the state directory: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(cfg), ".reauth-*")); len(m) > 0 {
		t.Errorf("files beside the config: %v", m)
	}
	// The operator starts node2 again; --resume finishes the job.
	if err := c.StartNode(context.Background(), "node2"); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitRunning(context.Background(), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runBinary(t, "restart", "--config", cfg, "--yes", "--resume")
	if code != 0 || !strings.Contains(out, "node1") || !strings.Contains(out, "skipped (already restarted)") || strings.Count(out, " restarted (went down") != 2 {
		t.Fatalf("resume: exit %d\n%s\n%s", code, out, stderr)
	}

	// Ctrl-C while node1 restarts: node1 is waited for, node2 and node3 are not touched, exit 130.
	before, _ := c.Status(context.Background())
	cmd := exec.Command(testenv.Binary(t), "restart", "--config", cfg, "--yes", "--json")
	var jsonOut bytes.Buffer
	cmd.Stdout = &jsonOut
	errPipe, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(seen.String(), "node1: (1/3) down") {
		n, err := errPipe.Read(buf)
		if err != nil {
			t.Fatalf("stderr ended before node1 went down: %s", seen.String())
		}
		seen.Write(buf[:n])
	}
	cmd.Process.Signal(os.Interrupt)
	go io.Copy(io.Discard, errPipe)
	err := cmd.Wait()
	var intr restartJSON
	json.Unmarshal(jsonOut.Bytes(), &intr)
	if cmd.ProcessState.ExitCode() != 130 || len(intr.Nodes) != 3 || !intr.Nodes[0].Restarted || intr.Nodes[1].Status != "untouched" || intr.Nodes[2].Status != "untouched" {
		t.Fatalf("interrupt: %v, exit %d, %+v", err, cmd.ProcessState.ExitCode(), intr)
	}
	after, _ := c.Status(context.Background())
	for i := 1; i < 3; i++ {
		if after[i].PID != before[i].PID {
			t.Errorf("%s was restarted after the interrupt", after[i].Name)
		}
	}
}

func TestRestartCLIRefusals(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("products:\n  - product: jira\n    nodes:\n      - name: n1\n        url: http://127.0.0.1:1\n        restart: {exec: {command: x, password: y}}\n"), 0o600)
	down := filepath.Join(dir, "down.yaml")
	os.WriteFile(down, []byte("products:\n  - product: jira\n    nodes:\n      - name: n1\n        url: http://127.0.0.1:1\n        restart: {exec: {command: 'touch "+filepath.Join(dir, "ran")+"'}}\n"), 0o600)
	two := filepath.Join(dir, "two.yaml")
	os.WriteFile(two, []byte("products:\n  - {product: jira, nodes: [{name: a, url: 'http://127.0.0.1:1', restart: {exec: {command: x}}}]}\n  - {product: bamboo, nodes: [{name: b, url: 'http://127.0.0.1:1', restart: {exec: {command: x}}}]}\n"), 0o600)
	pair := filepath.Join(dir, "pair.yaml")
	os.WriteFile(pair, []byte("products:\n  - product: jira\n    nodes:\n      - {name: a, url: 'http://127.0.0.1:1', restart: {exec: {command: 'touch "+filepath.Join(dir, "ran")+"'}}}\n      - {name: b, url: 'http://127.0.0.1:1', restart: {exec: {command: x}}}\n"), 0o600)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"restart"}, 2, "--config is required"},
		{[]string{"restart", "--config", down, "--yes", "--max-unavailable", "0"}, 2, `--max-unavailable "0" is not a positive number of nodes`},
		{[]string{"run", "--config", down, "--yes", "--max-unavailable", "2.5%"}, 2, `--max-unavailable "2.5%": a percentage must be 1%..100%`},
		{[]string{"restart", "--config", pair, "--yes", "--max-unavailable", "100%"}, 4, "would leave 0 serving, fewer than min_serving 1"},
		{[]string{"restart", "--config", bad, "--yes"}, 2, "bad.yaml:6: exec: inline secret"},
		{[]string{"restart", "--config", down, "--yes"}, 4, "n1: not RUNNING (unreachable: connection refused: nothing listens there"},
		{[]string{"restart", "--config", two, "--yes"}, 2, "--product with one of: jira, bamboo"},
		{[]string{"restart", "--config", down, "--yes", "--start-timeout", "1m", "--stable-window", "2m"}, 2, "make --stable-window shorter than --start-timeout"},
		{[]string{"restart", "--config", down, "--yes", "--start-timeout", "-1m"}, 2, "pass a positive --start-timeout"},
		{[]string{"run", "--config", down, "--yes", "--stable-window", "-1s"}, 2, "pass a positive --stable-window"},
		{[]string{"restart", "--config", down, "--yes", "--skip-node", "n1"}, 2, `say why with --skip-reason "…"`},
		{[]string{"restart", "--config", down, "--yes", "--skip-reason", "dead"}, 2, "--skip-reason without --skip-node"},
		{[]string{"restart", "--config", down, "--yes", "--skip-node", "n9", "--skip-reason", "dead"}, 2, "--skip-node n9: no such node"},
		{[]string{"restart", "--config", down, "--yes", "--skip-node", "n1", "--skip-reason", "dead"}, 2, "leave at least one running node"},
		{[]string{"run", "--config", down, "--yes", "--skip-node", "n1"}, 2, `say why with --skip-reason "…"`},
	}
	for _, tc := range cases {
		var out, errb bytes.Buffer
		code := Run(context.Background(), tc.args, IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: os.Getenv})
		if code != tc.code || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr:\n%s", tc.args, code, errb.String())
		}
		if strings.Contains(errb.String(), "y}") {
			t.Errorf("%v: the secret is echoed: %s", tc.args, errb.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Error("a restart command ran although preflight failed")
	}
}

// On a terminal the operator must type the product name.
func TestRestartConfirmation(t *testing.T) {
	for _, tc := range []struct {
		typed string
		ok    bool
	}{{"jira\n", true}, {"yes\n", false}} {
		var errb bytes.Buffer
		err := confirm(IO{In: strings.NewReader(tc.typed), Err: &errb, InTTY: true}, false, "jira", 3)
		if (err == nil) != tc.ok || !strings.Contains(errb.String(), `Type "jira" to restart 3 node(s)`) {
			t.Errorf("typed %q: %v (%s)", tc.typed, err, errb.String())
		}
	}
}

// The plan states the limits each node is held to, as --start-timeout and --stable-window set them.
func TestRestartPlanStatesGates(t *testing.T) {
	plan := rollout.Plan{Nodes: []rollout.Node{{Name: "node1", Restarter: fakeRestarter{}}}}
	var b bytes.Buffer
	printPlan(&b, plan, rollout.Options{StartTimeout: 7 * time.Minute, StableWindow: 3 * time.Second}, restartOptions{})
	if !strings.Contains(b.String(), "stable window 3.0s; start timeout 7m per node") {
		t.Fatalf("%s", b.String())
	}
}

type fakeRestarter struct{ rollout.Restarter }

func (fakeRestarter) Method() string { return "exec" }

// On a terminal the per-node lines are redrawn in place; otherwise every event is one plain line.
func TestNodeView(t *testing.T) {
	plan := rollout.Plan{Nodes: []rollout.Node{{Name: "node1"}, {Name: "node2"}}}
	events := []rollout.Event{
		{Node: "node1", Phase: rollout.PhaseRestarting, Elapsed: 0, Index: 1, Of: 2, Timeout: 20 * time.Minute},
		{Node: "node1", Phase: rollout.PhaseDown, State: "unreachable", Elapsed: time.Second, Index: 1, Of: 2, Timeout: 20 * time.Minute},
		{Node: "node1", Phase: rollout.PhaseDone, State: "RUNNING", Elapsed: 3 * time.Second, Index: 1, Of: 2, Timeout: 20 * time.Minute},
	}
	var live, plain bytes.Buffer
	lv, pv := newNodeView(&live, true, plan), newNodeView(&plain, false, plan)
	for _, e := range events {
		lv.event(e)
		pv.event(e)
	}
	if strings.Count(live.String(), "\x1b[2A") != 2 || !strings.Contains(live.String(), "(1/2) restarted after 3.0s") || !strings.Contains(live.String(), "node2            waiting") {
		t.Errorf("live view:\n%q", live.String())
	}
	if strings.Contains(plain.String(), "\x1b") || strings.Count(plain.String(), "\n") != 3 || !strings.Contains(plain.String(), "node1: (1/2) down (unreachable) 1.0s / timeout 20m") {
		t.Errorf("plain view:\n%s", plain.String())
	}
}
