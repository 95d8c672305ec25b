// Package apimode_bench measures API mode at scale: 10,000 users with sessions on a 3-node
// sandbox Jira (PostgreSQL), all sessions ended through the REST endpoint with concurrency 8, and
// the time a rolling restart of the same cluster takes, for the ratio. In the same run it ends
// the same users' sessions twice (everyone logs in again in between): first as reauth did before
// 2026-12-02 (the standard HTTP transport, 2 idle connections per node: the baseline), then
// with reauth's own defaults, and a probe reads each node's readiness endpoint every 20 ms,
// before (idle) and during both runs: its p99 is the load a run puts on the nodes. Run it with
//
//	go test -run XXX -bench . -benchtime 1x ./bench/apimode
//
// (REAUTH_BENCH_USERS overrides the user count.) It is a benchmark, never part of `go test ./...`.
package apimode_bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/apimode"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/testenv"
	"github.com/reauth/reauth/sqlstore"
)

func BenchmarkEndSessions(b *testing.B) {
	users := 10000
	if v, err := strconv.Atoi(os.Getenv("REAUTH_BENCH_USERS")); err == nil && v > 0 {
		users = v
	}
	ctx := context.Background()
	pg := testenv.Postgres(b)
	t0 := time.Now()
	c, err := sandbox.Up(ctx, sandbox.Options{Dir: b.TempDir() + "/sb", Exe: testenv.Binary(b), Product: atlassian.Jira,
		Version: "9.12.0", Nodes: 3, Users: users, DB: pg.URL, StartupDelay: time.Second}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Down(context.Background()) })
	b.Logf("seeded %d users with sessions (remember-me on) on 3 nodes in %s", users, time.Since(t0).Round(time.Millisecond))

	p, _ := atlassian.Lookup("jira")
	st, err := sqlstore.Open(ctx, reauth.Database{Engine: reauth.Postgres, Host: pg.Host, Port: pg.Port, Name: pg.Name,
		User: pg.User, Password: reauth.NewSecret(pg.Pass)}, p, sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	names, err := st.SessionUsers(ctx, []string{"admin"})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := c.AdminToken()
	if err != nil {
		b.Fatal(err)
	}
	var urls []string
	for _, n := range c.Nodes() {
		urls = append(urls, n.URL)
	}
	// The nodes' response time at rest: the readiness endpoint, read in turn on every node.
	idle := probe(b, urls, p, nil)
	time.Sleep(3 * time.Second)
	idleP99 := idle.stop()

	run := func(name string, client *http.Client) (apimode.Result, time.Duration) {
		b.Helper()
		before := sessions(b, c)
		pr := probe(b, urls, p, nil)
		res, err := apimode.Invalidate(ctx, apimode.Options{Product: p, BaseURLs: urls, Auth: apimode.Auth{Token: reauth.NewSecret(tok)},
			Users: names, Concurrency: 8, Client: client})
		p99 := pr.stop()
		if err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for sessions(b, c) != 0 {
			if time.Now().After(deadline) {
				b.Fatalf("%s: %d sessions left after the API run", name, sessions(b, c))
			}
			time.Sleep(100 * time.Millisecond) // the other nodes apply kills every 200 ms
		}
		if res.Ended != len(names) || len(res.Failed) != 0 || res.Throttled != 0 {
			b.Fatalf("%s: ended %d of %d, failed %d, throttled %d", name, res.Ended, len(names), len(res.Failed), res.Throttled)
		}
		b.Logf("%s: %d sessions before; ended %d users in %s (%.0f req/s, p50 %.1f ms, p99 %.1f ms, %d requests); node probe p99 %.1f ms (idle %.1f ms)",
			name, before, res.Ended, res.Elapsed.Round(time.Millisecond), res.PerSecond, res.P50MS, res.P99MS, res.Requests, ms(p99), ms(idleP99))
		return res, p99
	}
	// The baseline: the standard transport, as reauth used it before (2 idle connections per host).
	base, baseP99 := run("baseline (standard transport)", &http.Client{Timeout: 30 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()})
	l0 := time.Now()
	if err := loginAll(ctx, urls, users); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d users logged in again in %s", users, time.Since(l0).Round(time.Millisecond))
	b.ResetTimer()
	res, p99 := run("reauth", nil)
	b.StopTimer()

	// The same cluster, restarted one node at a time as the rolling restart does (stop, start,
	// wait for RUNNING), with the sandbox's default 1 s start-up.
	r0 := time.Now()
	for _, n := range c.Nodes() {
		if err := c.RestartNode(ctx, n.Name); err != nil {
			b.Fatal(err)
		}
		if err := c.WaitRunning(ctx, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
	restart := time.Since(r0)

	b.ReportMetric(float64(res.Ended), "users")
	b.ReportMetric(res.PerSecond, "req/s")
	b.ReportMetric(res.P99MS, "p99-ms")
	b.ReportMetric(res.Elapsed.Seconds(), "api-s")
	b.ReportMetric(base.Elapsed.Seconds(), "baseline-api-s")
	b.ReportMetric(res.Elapsed.Seconds()/base.Elapsed.Seconds(), "api/baseline")
	b.ReportMetric(ms(idleP99), "node-idle-p99-ms")
	b.ReportMetric(ms(p99)/ms(idleP99), "node-p99/idle")
	b.ReportMetric(ms(baseP99)/ms(idleP99), "baseline-node-p99/idle")
	b.ReportMetric(restart.Seconds(), "restart-s")
	b.ReportMetric(restart.Seconds()/res.Elapsed.Seconds(), "restart/api")
	line, _ := json.Marshal(map[string]any{"users": users, "api_s": round(res.Elapsed.Seconds()), "baseline_api_s": round(base.Elapsed.Seconds()),
		"ratio_api_baseline": round(res.Elapsed.Seconds() / base.Elapsed.Seconds()), "req_per_s": round(res.PerSecond),
		"baseline_req_per_s": round(base.PerSecond), "call_p50_ms": res.P50MS, "call_p99_ms": res.P99MS, "baseline_call_p99_ms": base.P99MS,
		"node_p99_idle_ms": ms(idleP99), "node_p99_ms": ms(p99), "baseline_node_p99_ms": ms(baseP99),
		"ratio_node_p99_idle": round(ms(p99) / ms(idleP99)), "ratio_baseline_node_p99_idle": round(ms(baseP99) / ms(idleP99)),
		"restart_s": round(restart.Seconds())})
	fmt.Println(string(line))
	b.Logf("rolling restart of the 3 nodes took %s (%.2fx the API run)", restart.Round(time.Millisecond), restart.Seconds()/res.Elapsed.Seconds())
}

// prober reads the nodes' readiness endpoint in turn, one request at a time every 20 ms, and
// keeps the latencies: how fast the product answers a cheap request meanwhile.
type prober struct {
	stopc chan struct{}
	done  chan struct{}
	lat   []time.Duration
}

func probe(b *testing.B, urls []string, p atlassian.Product, client *http.Client) *prober {
	b.Helper()
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	}
	pr := &prober{stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(pr.done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-pr.stopc:
				return
			case <-tick.C:
			}
			t0 := time.Now()
			resp, err := client.Get(urls[i%len(urls)] + p.ContextPath + p.Ready.Path)
			if err != nil {
				continue
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			pr.lat = append(pr.lat, time.Since(t0))
		}
	}()
	return pr
}

// stop ends the probe and returns its p99 (nearest rank).
func (pr *prober) stop() time.Duration {
	close(pr.stopc)
	<-pr.done
	if len(pr.lat) == 0 {
		return 0
	}
	slices.Sort(pr.lat)
	return pr.lat[int(math.Ceil(0.99*float64(len(pr.lat))))-1]
}

// loginAll logs users 1..n in again with remember-me, 8 at a time, spread over the nodes.
func loginAll(ctx context.Context, urls []string, n int) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := 1; i <= n; i++ {
		g.Go(func() error {
			br := sandbox.NewBrowser()
			br.Product = atlassian.Jira
			return br.Login(gctx, urls[(i-1)%len(urls)], sandbox.UserName(i), sandbox.UserPassword, true)
		})
	}
	return g.Wait()
}

func ms(d time.Duration) float64 { return round(float64(d) / float64(time.Millisecond)) }

func round(v float64) float64 { return math.Round(v*1000) / 1000 }

func sessions(b *testing.B, c *sandbox.Cluster) int {
	b.Helper()
	st, err := c.Status(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, s := range st {
		n += s.Sessions
	}
	return n
}
