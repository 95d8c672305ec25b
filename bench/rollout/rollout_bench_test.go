// Package rollout benchmarks the rolling restart on a sandbox cluster of real node processes:
// reauth's total time against the floor (the sum of the nodes' own restart times: command issued
// to RUNNING, measured with a 10 ms poller), as overhead per node, and against a fixed-sleep
// script (restart, sleep S, next) with S the smallest sleep that was safe for the measured delays.
//
//	go test ./bench/rollout -run '^$' -bench . -benchtime 1x [-delay 2s]
package rollout

import (
	"context"
	"flag"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/reauth/reauth/health"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/testenv"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/rollout"
	"github.com/reauth/reauth/rollout/execmethod"
	"github.com/reauth/reauth/rollout/methods"
)

var (
	delay = flag.Duration("delay", 2*time.Second, "each sandbox node's start-up delay")
	nodes = flag.Int("nodes", 3, "sandbox nodes")
)

func setup(b *testing.B) (*sandbox.Cluster, rollout.Plan) {
	ctx := context.Background()
	c, err := sandbox.Up(ctx, sandbox.Options{Dir: filepath.Join(b.TempDir(), "sb"), Nodes: *nodes, Users: 1,
		StartupDelay: *delay, Exe: testenv.Binary(b)}, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Down(context.Background()) })
	if err := c.WaitRunning(ctx, time.Minute); err != nil {
		b.Fatal(err)
	}
	inv, err := inventory.Load(c.InventoryPath())
	if err != nil {
		b.Fatal(err)
	}
	plan, closeAll, err := methods.Plan(ctx, inv, &inv.Products[0], nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(closeAll)
	return c, plan
}

// floor restarts each node with its own command and polls every 10 ms until RUNNING: the time a
// perfect gate would need. It returns the sum, and the longest wait after the command returned.
func floor(b *testing.B, plan rollout.Plan) (sum, worstAfterCmd time.Duration) {
	client := &http.Client{Timeout: time.Second}
	for _, n := range plan.Nodes {
		r := n.Restarter.(*execmethod.Restarter)
		start := time.Now()
		if err := r.Restart(context.Background(), io.Discard); err != nil {
			b.Fatal(err)
		}
		cmdDone := time.Now()
		for !health.Probe(context.Background(), client, plan.Product, n.URL).Ready {
			if time.Since(start) > time.Minute {
				b.Fatalf("%s not RUNNING after a minute", n.Name)
			}
			time.Sleep(10 * time.Millisecond)
		}
		sum += time.Since(start)
		if w := time.Since(cmdDone); w > worstAfterCmd {
			worstAfterCmd = w
		}
	}
	return sum, worstAfterCmd
}

// fixedSleep is the usual script: restart, sleep S, next.
func fixedSleep(b *testing.B, plan rollout.Plan, s time.Duration) time.Duration {
	start := time.Now()
	for _, n := range plan.Nodes {
		if err := n.Restarter.Restart(context.Background(), io.Discard); err != nil {
			b.Fatal(err)
		}
		time.Sleep(s)
	}
	return time.Since(start)
}

func benchRollout(b *testing.B, opts rollout.Options) {
	c, plan := setup(b)
	for i := 0; i < b.N; i++ {
		fl, worst := floor(b, plan)
		// The smallest safe sleep: the longest any node took to be RUNNING after its command
		// returned, rounded up to 100 ms (anything shorter would move on while a node is down).
		safe := worst.Truncate(100*time.Millisecond) + 100*time.Millisecond
		fixed := fixedSleep(b, plan, safe)
		if err := c.WaitRunning(context.Background(), time.Minute); err != nil {
			b.Fatal(err)
		}
		opts.JournalPath = filepath.Join(b.TempDir(), "journal.json")
		start := time.Now()
		if _, err := rollout.Run(context.Background(), plan, opts); err != nil {
			b.Fatal(err)
		}
		total := time.Since(start)
		n := float64(len(plan.Nodes))
		b.ReportMetric(total.Seconds(), "reauth_s")
		b.ReportMetric(fl.Seconds(), "floor_s")
		b.ReportMetric((total-fl).Seconds()/n*1000, "overhead_ms/node")
		b.ReportMetric(fixed.Seconds(), "fixed_sleep_s")
		b.ReportMetric(safe.Seconds(), "safe_sleep_s")
	}
}

// Defaults: the stable window (500 ms) and 250 ms backoff cap that reauth uses out of the box.
func BenchmarkRolloutDefaults(b *testing.B) { benchRollout(b, rollout.Options{}) }

// Conservative: a 2 s stable window and a 500 ms backoff cap (defaults: {stable_window: 2s,
// poll_interval: 500ms}), to show what a longer window costs.
func BenchmarkRolloutConservative(b *testing.B) {
	benchRollout(b, rollout.Options{StableWindow: 2 * time.Second, MaxPoll: 500 * time.Millisecond})
}
