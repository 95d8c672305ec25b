// Package apimode_bench measures API mode at scale: 10,000 users with sessions on a 3-node
// sandbox Jira (PostgreSQL), all sessions ended through the REST endpoint with concurrency 8, and
// the time a rolling restart of the same cluster takes, for the ratio. Run it with
//
//	go test -run XXX -bench . -benchtime 1x ./bench/apimode
//
// (REAUTH_BENCH_USERS overrides the user count.) It is a benchmark, never part of `go test ./...`.
package apimode_bench

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

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
	before := sessions(b, c)

	b.ResetTimer()
	res, err := apimode.Invalidate(ctx, apimode.Options{Product: p, BaseURLs: urls, Auth: apimode.Auth{Token: reauth.NewSecret(tok)},
		Users: names, Concurrency: 8})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for sessions(b, c) != 0 {
		if time.Now().After(deadline) {
			b.Fatalf("%d sessions left after the API run", sessions(b, c))
		}
		time.Sleep(100 * time.Millisecond) // the other nodes apply kills every 200 ms
	}
	allGone := time.Since(t0)
	_ = allGone

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

	if res.Ended != len(names) || len(res.Failed) != 0 || res.Throttled != 0 {
		b.Fatalf("ended %d of %d, failed %d, throttled %d", res.Ended, len(names), len(res.Failed), res.Throttled)
	}
	b.ReportMetric(float64(res.Ended), "users")
	b.ReportMetric(res.PerSecond, "req/s")
	b.ReportMetric(res.P99MS, "p99-ms")
	b.ReportMetric(res.Elapsed.Seconds(), "api-s")
	b.ReportMetric(restart.Seconds(), "restart-s")
	b.ReportMetric(restart.Seconds()/res.Elapsed.Seconds(), "restart/api")
	b.Logf("%d sessions before; API mode ended %d users in %s (%.0f req/s, p50 %.1f ms, p99 %.1f ms, %d requests, %d throttled); "+
		"rolling restart of the 3 nodes took %s (%.2fx the API run)", before, res.Ended, res.Elapsed.Round(time.Millisecond),
		res.PerSecond, res.P50MS, res.P99MS, res.Requests, res.Throttled, restart.Round(time.Millisecond), restart.Seconds()/res.Elapsed.Seconds())
}

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
