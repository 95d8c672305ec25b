// Package waves benchmarks restart waves (--max-unavailable): a 6-node Jira sandbox of real node
// processes on the real PostgreSQL, each node taking 10 s to start, restarted by the real binary
// (`reauth run --yes --json --mode restart --max-unavailable K`) with K = 1, 2 and 3 in one run of
// the benchmark, re-armed before each (old tokens seeded again).
//
// Per K it reports the exposure window as reauth measured it (products[].exposure
// .old_sessions_dead_after_s: from the purge's commit to the last node seen down), against
// ceil(6/K) × one node's restart (the median ready_after_ms of the K = 1 run, plus the stable
// window): the target is a ratio ≤ 1.2. A sampler of its own probes every node's status every
// 100 ms throughout each run and reports the fewest RUNNING at once (min_serving is 1, and waves
// of K must leave 6 − K), not trusting reauth's log.
//
//	go test ./bench/waves -run '^$' -bench . -benchtime 1x [-delay-scale 0.3]
package waves

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/health"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
)

var (
	delayScale = flag.Float64("delay-scale", 1, "multiply the nodes' 10 s start-up (0.3 for a quick look)")
	nodes      = flag.Int("nodes", 6, "Jira nodes")
)

const stableWindow = time.Second

func BenchmarkWaves(b *testing.B) {
	delay := time.Duration(float64(10*time.Second) * *delayScale)
	db := testenv.Postgres(b)
	c := sandboxtest.Up(b, sandbox.Options{Product: atlassian.Jira, Nodes: *nodes, DB: db.URL, Users: 20, RememberFraction: 0.5,
		StartupDelay: delay, Version: "9.10.0"})
	dir := b.TempDir()
	cfg := writeInventory(b, c, dir)
	jira, _ := atlassian.Lookup("jira")
	for i := 0; i < b.N; i++ {
		var oneNode time.Duration
		for _, k := range []int{1, 2, 3} {
			seed(b, db)
			s := sample(jira, c)
			r := run(b, cfg, dir, k)
			minUp, samples := s.finish()
			if k == 1 {
				oneNode = r.medianReady + stableWindow
			}
			waves := (*nodes + k - 1) / k
			bound := time.Duration(waves) * oneNode
			line := map[string]any{"k": k, "nodes": *nodes, "startup_s": delay.Seconds(), "waves": waves,
				"dead_everywhere_s": r.deadAfterS, "estimated_s": r.estimatedS, "one_node_restart_s": round(oneNode),
				"bound_s": round(bound), "ratio_bound": round3(r.deadAfterS / bound.Seconds()), "run_s": round(r.took),
				"min_running_sampled": minUp, "samples": samples, "min_serving": 1, "load_before": loadavg()}
			out, _ := json.Marshal(line)
			fmt.Println(string(out))
			b.ReportMetric(r.deadAfterS, fmt.Sprintf("dead_everywhere_k%d_s", k))
			b.ReportMetric(float64(minUp), fmt.Sprintf("min_running_k%d", k))
			if minUp < 1 {
				b.Errorf("K=%d: a sample saw %d node(s) RUNNING: below min_serving 1", k, minUp)
			}
		}
	}
}

// writeInventory is the sandbox's reauth.yaml with the defaults of a careful operator.
func writeInventory(b *testing.B, c *sandbox.Cluster, dir string) string {
	raw, err := os.ReadFile(c.InventoryPath())
	if err != nil {
		b.Fatal(err)
	}
	head := fmt.Sprintf("defaults: {start_timeout: 3m, stable_window: %s, backup_dir: %s, audit_log: %s}\n", stableWindow,
		filepath.Join(dir, "backups"), filepath.Join(dir, "audit.jsonl"))
	if err := os.MkdirAll(filepath.Join(dir, "backups"), 0o700); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "reauth.yaml")
	if err := os.WriteFile(path, append([]byte(head), raw...), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

type result struct {
	deadAfterS, estimatedS float64
	medianReady, took      time.Duration
}

// run times one `reauth run --max-unavailable k`, which must end verified.
func run(b *testing.B, cfg, dir string, k int) result {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.Binary(b), "run", "--config", cfg, "--yes", "--json", "--mode", "restart",
		"--max-unavailable", strconv.Itoa(k))
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(dir, "state"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	var r struct {
		Verified bool `json:"verified"`
		Products []struct {
			Nodes []struct {
				ReadyAfterMS int64 `json:"ready_after_ms"`
			} `json:"nodes"`
			Exposure struct {
				DeadAfterS *float64 `json:"old_sessions_dead_after_s"`
				EstimatedS float64  `json:"estimated_s"`
			} `json:"exposure"`
		} `json:"products"`
	}
	if err != nil || json.Unmarshal(out.Bytes(), &r) != nil || !r.Verified || len(r.Products) != 1 || r.Products[0].Exposure.DeadAfterS == nil {
		b.Fatalf("reauth run --max-unavailable %d: %v, verified %v\n%s\n%s", k, err, r.Verified, out.String(), errb.String())
	}
	var ready []int64
	for _, n := range r.Products[0].Nodes {
		ready = append(ready, n.ReadyAfterMS)
	}
	sort.Slice(ready, func(i, j int) bool { return ready[i] < ready[j] })
	fmt.Fprintf(os.Stderr, "reauth run --max-unavailable %d: %.1fs\n", k, took.Seconds())
	return result{deadAfterS: *r.Products[0].Exposure.DeadAfterS, estimatedS: r.Products[0].Exposure.EstimatedS,
		medianReady: time.Duration(ready[len(ready)/2]) * time.Millisecond, took: took}
}

// sampler probes every node every 100 ms and keeps the fewest seen RUNNING at once.
type sampler struct {
	mu           sync.Mutex
	min, samples int
	stop         chan struct{}
	done         sync.WaitGroup
	product      atlassian.Product
	urls         []string
	client       *http.Client
}

func sample(p atlassian.Product, c *sandbox.Cluster) *sampler {
	s := &sampler{stop: make(chan struct{}), product: p, client: &http.Client{Timeout: time.Second}}
	for _, n := range c.Nodes() {
		s.urls = append(s.urls, n.URL)
	}
	s.min = len(s.urls)
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		for {
			select {
			case <-s.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			up := 0
			for _, u := range s.urls {
				if health.Probe(context.Background(), s.client, s.product, u).Ready {
					up++
				}
			}
			s.mu.Lock()
			s.samples++
			s.min = min(s.min, up)
			s.mu.Unlock()
		}
	}()
	return s
}

func (s *sampler) finish() (int, int) {
	close(s.stop)
	s.done.Wait()
	return s.min, s.samples
}

// seed adds old tokens for the purge to delete.
func seed(b *testing.B, db *testenv.DB) {
	_, err := db.SQL.Exec(`INSERT INTO remembermetoken (id, created, token, username)
		SELECT b.base + g, now() - interval '3 days', md5(random()::text), 'user001'
		FROM generate_series(1, 2000) g, (SELECT coalesce(max(id), 0) + 1000 AS base FROM remembermetoken) b`)
	if err != nil {
		b.Fatalf("seed: %v", err)
	}
}

func round(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }
func round3(f float64) float64      { return float64(int64(f*1000+0.5)) / 1000 }

func loadavg() string {
	raw, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
