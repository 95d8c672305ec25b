// Package estate benchmarks `reauth run` over a whole estate: five sandbox products of real node
// processes on the real PostgreSQL and MariaDB servers, with start-up delays like real nodes:
//
//	Jira       3 nodes, PostgreSQL, 15 s start-up     Confluence 2 nodes, MariaDB, 20 s
//	Bitbucket  2 nodes, PostgreSQL, 10 s              Bamboo     1 node,  MariaDB,  8 s
//	Fisheye    1 node,  PostgreSQL,  5 s
//
// In one run of the benchmark, on the same estate, re-armed before each step (old tokens seeded
// again into Jira's, Bitbucket's and Confluence's tables): the time until every session is dead
// and verified (the real binary, `reauth run --yes --json --mode restart`, to its exit, every
// product verified) with every product at once (the default), with --parallel 1 (one product after
// another), and each product's own run (--product P). Ratios: parallel / slowest single (target
// ≤ 1.2), parallel / one-at-a-time, one-at-a-time / sum of singles.
//
//	go test ./bench/estate -run '^$' -bench . -benchtime 1x [-delay-scale 0.2] [-tokens 50000]
package estate

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
)

var (
	delayScale = flag.Float64("delay-scale", 1, "multiply every node's start-up delay (0.2 for a quick look)")
	tokens     = flag.Int("tokens", 50000, "old tokens seeded into Jira's, Bitbucket's and Confluence's tables before each step")
)

// member is one product of the estate.
type member struct {
	id     atlassian.ProductID
	nodes  int
	delay  time.Duration
	engine string // "postgres" or "mariadb"
	db     *testenv.DB
	c      *sandbox.Cluster
}

func estate() []*member {
	return []*member{
		{id: atlassian.Jira, nodes: 3, delay: 15 * time.Second, engine: "postgres"},
		{id: atlassian.Confluence, nodes: 2, delay: 20 * time.Second, engine: "mariadb"},
		{id: atlassian.Bitbucket, nodes: 2, delay: 10 * time.Second, engine: "postgres"},
		{id: atlassian.Bamboo, nodes: 1, delay: 8 * time.Second, engine: "mariadb"},
		{id: atlassian.Fisheye, nodes: 1, delay: 5 * time.Second, engine: "postgres"},
	}
}

func BenchmarkEstate(b *testing.B) {
	ms := estate()
	for _, m := range ms {
		m.delay = time.Duration(float64(m.delay) * *delayScale)
		url := ""
		if m.engine == "postgres" {
			m.db = testenv.Postgres(b)
			url = m.db.URL
		} else {
			m.db = testenv.MariaDB(b)
			url = "mysql://" + m.db.User + ":" + m.db.Pass + "@127.0.0.1:" + strconv.Itoa(m.db.Port) + "/" + m.db.Name
		}
		m.c = sandboxtest.Up(b, sandbox.Options{Product: m.id, Nodes: m.nodes, DB: url, Users: 20, RememberFraction: 0.5, StartupDelay: m.delay})
	}
	dir := b.TempDir()
	cfg := writeEstate(b, dir, ms)
	for i := 0; i < b.N; i++ {
		par := timedRun(b, ms, cfg, dir)
		seq := timedRun(b, ms, cfg, dir, "--parallel", "1")
		single := map[atlassian.ProductID]time.Duration{}
		var slowest, sum time.Duration
		var slowestID atlassian.ProductID
		for _, m := range ms {
			d := timedRun(b, ms, cfg, dir, "--product", string(m.id))
			single[m.id], sum = d, sum+d
			if d > slowest {
				slowest, slowestID = d, m.id
			}
		}
		b.ReportMetric(par.Seconds(), "parallel_s")
		b.ReportMetric(seq.Seconds(), "one_at_a_time_s")
		b.ReportMetric(slowest.Seconds(), "slowest_single_s")
		b.ReportMetric(par.Seconds()/slowest.Seconds(), "ratio_slowest_single")
		b.ReportMetric(par.Seconds()/seq.Seconds(), "ratio_one_at_a_time")
		line := map[string]any{"parallel_s": round(par), "one_at_a_time_s": round(seq), "sum_singles_s": round(sum),
			"slowest_single": slowestID, "slowest_single_s": round(slowest),
			"ratio_slowest_single": round3(par.Seconds() / slowest.Seconds()), "ratio_one_at_a_time": round3(par.Seconds() / seq.Seconds()),
			"ratio_one_at_a_time_sum_singles": round3(seq.Seconds() / sum.Seconds()), "delay_scale": *delayScale, "tokens": *tokens,
			"cpus": runtime.NumCPU(), "load_before": loadavg()}
		for id, d := range single {
			line["single_"+string(id)+"_s"] = round(d)
		}
		out, _ := json.Marshal(line)
		fmt.Println(string(out))
	}
}

// writeEstate writes one inventory with every product: the sandboxes' own entries (homes, nodes,
// restart commands, confirmed cookie formats), with the defaults of a careful operator.
func writeEstate(b *testing.B, dir string, ms []*member) string {
	var s strings.Builder
	fmt.Fprintf(&s, "defaults: {start_timeout: 3m, stable_window: 2s, backup_dir: %s, audit_log: %s}\nproducts:\n",
		filepath.Join(dir, "backups"), filepath.Join(dir, "audit.jsonl"))
	if err := os.MkdirAll(filepath.Join(dir, "backups"), 0o700); err != nil {
		b.Fatal(err)
	}
	for _, m := range ms {
		raw, err := os.ReadFile(m.c.InventoryPath())
		if err != nil {
			b.Fatal(err)
		}
		_, entries, ok := strings.Cut(string(raw), "products:\n")
		if !ok {
			b.Fatalf("%s: no products in the sandbox's inventory", m.id)
		}
		s.WriteString(entries)
	}
	path := filepath.Join(dir, "estate.yaml")
	if err := os.WriteFile(path, []byte(s.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// timedRun re-arms the estate, then times one `reauth run` (process start to exit), which must
// end with every product it ran verified.
func timedRun(b *testing.B, ms []*member, cfg, dir string, args ...string) time.Duration {
	for _, m := range ms {
		seed(b, m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.Binary(b), append([]string{"run", "--config", cfg, "--yes", "--json", "--mode", "restart"}, args...)...)
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(dir, "state"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	var r struct {
		Verified bool `json:"verified"`
		Products []struct {
			Product string `json:"product"`
			Status  string `json:"status"`
		} `json:"products"`
	}
	if err != nil || json.Unmarshal(out.Bytes(), &r) != nil || !r.Verified {
		b.Fatalf("reauth run %v: %v, verified %v\n%s\n%s", args, err, r.Verified, out.String(), errb.String())
	}
	fmt.Fprintf(os.Stderr, "reauth run %v: %.1fs\n", args, d.Seconds())
	return d
}

// seed adds old tokens for the purge to delete (Jira, Bitbucket, Confluence: the big tables).
func seed(b *testing.B, m *member) {
	if *tokens <= 0 {
		return
	}
	var q string
	switch m.id {
	case atlassian.Jira:
		q = `INSERT INTO remembermetoken (id, created, token, username)
			SELECT b.base + g, now() - interval '3 days', md5(random()::text), 'user001'
			FROM generate_series(1, %d) g, (SELECT coalesce(max(id), 0) + 1000 AS base FROM remembermetoken) b`
	case atlassian.Bitbucket:
		q = `INSERT INTO sta_remember_me_token (id, series, token, user_id, expiry_timestamp, claimed)
			SELECT b.base + g, md5(random()::text), md5(random()::text), 1, now() + interval '20 days', false
			FROM generate_series(1, %d) g, (SELECT coalesce(max(id), 0) + 1000 AS base FROM sta_remember_me_token) b`
	case atlassian.Confluence:
		q = `INSERT INTO remembermetoken (id, username, created, token)
			SELECT b.base + s.seq, 'user001', (UNIX_TIMESTAMP() - 3 * 86400) * 1000, MD5(RAND())
			FROM seq_1_to_%d s, (SELECT COALESCE(MAX(id), 0) + 1000 AS base FROM remembermetoken) b`
	default:
		return
	}
	if _, err := m.db.SQL.Exec(fmt.Sprintf(q, *tokens)); err != nil {
		b.Fatalf("seed %s: %v", m.id, err)
	}
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func round(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }
func round3(x float64) float64      { return float64(int(x*1000+0.5)) / 1000 }
