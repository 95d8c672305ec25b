// Package purge benchmarks `reauth purge` on the real PostgreSQL and MariaDB against the manual
// procedure of Atlassian's KB, on a Jira remembermetoken table (the real DDL) of N tokens over
// 10,000 users. In one run, reloading the same rows before each step, it measures:
//
//	(a) tool:   the real reauth binary, `purge --yes --json --backup FILE` (batched, each batch
//	            fsynced to the backup before it commits, the backup re-read and checked);
//	(b) manual: pg_dump -t / mariadb-dump of the table piped to gzip, then DELETE FROM remembermetoken;
//	(c) bare:   DELETE FROM remembermetoken alone.
//
// During (a) and (c) a "login" loop inserts token rows one per statement on its own connection,
// as fast as it can, and its p99 latency is reported: a batched purge must not stall logins as
// one huge DELETE can. The loop takes CPU from the purge while (b) runs alone, so (a) is also run
// once without it (tool_quiet_s, ratio_manual_quiet): the like-for-like comparison with (b).
// It prints one JSON line per engine and row count (engine, rows, tool_s, manual_s,
// bare_delete_s, ratio_manual, max_batch_ms, peak_rss_mb, login_p99_ms_tool, login_p99_ms_bare,
// and the parts behind them). Targets (reported, not asserted): ratio_manual <= 1.0, longest
// batch <= 200 ms, peak RSS <= 100 MiB and flat from 100k to 1M rows.
//
//	go test ./bench/purge -run '^$' -bench . -benchtime 1x [-rows 100000,1000000] [-logins=false] [-batch-size N] [-repeat N]
//
// REAUTH_BENCH_ROWS=100000 does what -rows does. One iteration takes minutes at 1M rows, so run
// it with -benchtime 1x; -short skips it.
package purge

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reauth/reauth/internal/testenv"
)

var (
	rowsFlag   = flag.String("rows", "", "comma-separated row counts (default 100000,1000000; or REAUTH_BENCH_ROWS)")
	loginsFlag = flag.Bool("logins", true, "run the concurrent login loop during (a) and (c)")
	batchFlag  = flag.Int("batch-size", 0, "reauth purge --batch-size (default: reauth's own default)")
	repeatFlag = flag.Int("repeat", 1, "runs per engine and row count; with more than one, a line of medians follows")
)

// result is one engine and row count: the JSON line the benchmark prints.
type result struct {
	Engine         string  `json:"engine"`
	Rows           int     `json:"rows"`
	ToolS          float64 `json:"tool_s"`
	ManualS        float64 `json:"manual_s"`
	BareDeleteS    float64 `json:"bare_delete_s"`
	RatioManual    float64 `json:"ratio_manual"`
	MaxBatchMS     float64 `json:"max_batch_ms"`
	PeakRSSMB      float64 `json:"peak_rss_mb"`
	LoginP99MSTool float64 `json:"login_p99_ms_tool"`
	LoginP99MSBare float64 `json:"login_p99_ms_bare"`
	// The parts behind the figures above.
	Batches        int     `json:"batches"`
	Deleted        int64   `json:"deleted"`
	DumpS          float64 `json:"dump_s"`
	ManualDeleteS  float64 `json:"manual_delete_s"`
	BackupMB       float64 `json:"backup_mb"`
	DumpMB         float64 `json:"dump_mb"`
	LoginMaxMSTool float64 `json:"login_max_ms_tool"`
	LoginMaxMSBare float64 `json:"login_max_ms_bare"`
	LoginsTool     int     `json:"logins_tool"`
	LoginsBare     int     `json:"logins_bare"`
	LoadS          float64 `json:"load_s"`
	// (a) again without the login loop: the loop competes for the same CPUs (this machine has
	// 2 cores), while (b) runs without it; this is the like-for-like comparison with (b).
	ToolQuietS       float64 `json:"tool_quiet_s"`
	RatioManualQuiet float64 `json:"ratio_manual_quiet"`
	// The server's work left behind: how long it stays busy after the quiet purge and after the
	// manual DELETE (settle), and the quiet ratio counting it on both sides.
	ToolSettleS       float64 `json:"tool_settle_s"`
	ManualSettleS     float64 `json:"manual_settle_s"`
	RatioSettledQuiet float64 `json:"ratio_settled_quiet"`
	MaxBatchMSQuiet   float64 `json:"max_batch_ms_quiet"`
	PeakRSSMBQuiet    float64 `json:"peak_rss_mb_quiet"`
}

func rowCounts(b *testing.B) []int {
	spec := *rowsFlag
	if spec == "" {
		spec = os.Getenv("REAUTH_BENCH_ROWS")
	}
	if spec == "" {
		spec = "100000,1000000"
	}
	var out []int
	for _, f := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n >= firstLoginID {
			b.Fatalf("-rows / REAUTH_BENCH_ROWS %q: give comma-separated counts between 1 and %d, e.g. 100000,1000000", spec, firstLoginID-1)
		}
		out = append(out, n)
	}
	return out
}

// BenchmarkPurge runs (a), (b) and (c) per engine and row count; see the package comment.
func BenchmarkPurge(b *testing.B) {
	if testing.Short() {
		b.Skip("skipped under -short: loads and purges up to 1,000,000 rows per engine (minutes); run with -benchtime 1x")
	}
	counts := rowCounts(b)
	bin := testenv.Binary(b)
	for _, e := range engines {
		for _, rows := range counts {
			b.Run(fmt.Sprintf("%s/rows=%d", e.name, rows), func(b *testing.B) {
				db := e.open(b)
				if err := execAll(b.Context(), db.SQL, e.ddl...); err != nil {
					b.Fatal(err)
				}
				var all []result
				for i := 0; i < max(*repeatFlag, 1); i++ {
					r := runOnce(b, e, db, bin, rows)
					all = append(all, r)
					line, _ := json.Marshal(r)
					fmt.Println(string(line))
				}
				// With -repeat N, the metrics are the medians of N runs (the worst for the longest
				// batch and the peak RSS): one run on a shared machine is noisy. (Not b.N: the
				// framework would first run it once more to calibrate.)
				med := func(f func(result) float64) float64 {
					v := make([]float64, len(all))
					for i, r := range all {
						v[i] = f(r)
					}
					sort.Float64s(v)
					return v[len(v)/2]
				}
				worst := func(f func(result) float64) float64 {
					m := 0.0
					for _, r := range all {
						m = max(m, f(r))
					}
					return m
				}
				sum := map[string]any{"engine": e.name, "rows": rows, "runs": len(all),
					"median_ratio_manual":        med(func(r result) float64 { return r.RatioManual }),
					"median_ratio_manual_quiet":  med(func(r result) float64 { return r.RatioManualQuiet }),
					"median_ratio_settled_quiet": med(func(r result) float64 { return r.RatioSettledQuiet }),
					"median_tool_s":              med(func(r result) float64 { return r.ToolS }),
					"median_manual_s":            med(func(r result) float64 { return r.ManualS }),
					"max_batch_ms":               worst(func(r result) float64 { return max(r.MaxBatchMS, r.MaxBatchMSQuiet) }),
					"peak_rss_mb":                worst(func(r result) float64 { return max(r.PeakRSSMB, r.PeakRSSMBQuiet) }),
					"median_login_p99_ms_tool":   med(func(r result) float64 { return r.LoginP99MSTool }),
					"median_login_p99_ms_bare":   med(func(r result) float64 { return r.LoginP99MSBare }),
				}
				line, _ := json.Marshal(sum)
				fmt.Println(string(line))
				b.ReportMetric(sum["median_tool_s"].(float64), "tool_s")
				b.ReportMetric(sum["median_ratio_manual"].(float64), "ratio_manual")
				b.ReportMetric(sum["median_ratio_manual_quiet"].(float64), "ratio_manual_quiet")
				b.ReportMetric(sum["max_batch_ms"].(float64), "max_batch_ms")
				b.ReportMetric(sum["peak_rss_mb"].(float64), "peak_rss_mb")
			})
		}
	}
}

// runOnce measures (a), (b) and (c) on freshly reloaded rows each.
func runOnce(b *testing.B, e engine, db *testenv.DB, bin string, rows int) result {
	ctx, cancel := context.WithTimeout(b.Context(), 45*time.Minute)
	defer cancel()
	dir := b.TempDir()
	r := result{Engine: e.name, Rows: rows}
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	reload := func() {
		b.Helper()
		d, err := e.reload(ctx, db.SQL, rows)
		must(err)
		r.LoadS = round(d.Seconds(), 3)
	}
	driver, dsn, err := e.loginDSN(db)
	must(err)
	loginID := int64(firstLoginID)
	withLogins := func(step func()) loginStats {
		b.Helper()
		if !*loginsFlag {
			step()
			return loginStats{}
		}
		l, err := startLogins(ctx, driver, dsn, e.login, loginID)
		must(err)
		loginID += loginIDStride
		step()
		st, err := l.finish()
		must(err)
		return st
	}

	// (a) reauth purge, the real binary, with its verified backup.
	reload()
	backupFile := filepath.Join(dir, "tool.jsonl.gz")
	var out purgeOut
	var rss int64
	var toolD time.Duration
	st := withLogins(func() { out, rss, toolD, err = runTool(ctx, bin, db, backupFile) })
	must(err)
	if out.Deleted < int64(rows) {
		b.Fatalf("reauth purge deleted %d rows, want at least %d", out.Deleted, rows)
	}
	left, err := leftBelow(ctx, db.SQL, rows)
	must(err)
	if left != 0 {
		b.Fatalf("reauth purge left %d of the loaded rows", left)
	}
	r.ToolS, r.Deleted, r.Batches, r.MaxBatchMS = round(toolD.Seconds(), 3), out.Deleted, out.Batches, round(out.MaxBatchMS, 1)
	r.PeakRSSMB = round(float64(rss)/1024, 1)
	r.BackupMB = sizeMB(backupFile)
	r.LoginP99MSTool, r.LoginMaxMSTool, r.LoginsTool = ms(st.P99), ms(st.Max), st.N

	// (a) without logins.
	reload()
	quiet, rssQ, quietD, err := runTool(ctx, bin, db, filepath.Join(dir, "quiet.jsonl.gz"))
	must(err)
	toolSettle, err := settle(ctx, e.server)
	must(err)
	if quiet.Deleted != int64(rows) {
		b.Fatalf("reauth purge without logins deleted %d rows, want %d", quiet.Deleted, rows)
	}
	r.ToolQuietS, r.MaxBatchMSQuiet, r.PeakRSSMBQuiet = round(quietD.Seconds(), 3), round(quiet.MaxBatchMS, 1), round(float64(rssQ)/1024, 1)

	// (b) the KB's manual procedure done well: dump | gzip > file, then a bare DELETE.
	reload()
	dumpFile := filepath.Join(dir, "manual.sql.gz")
	dumpD, err := dumpGzip(ctx, e, db, dumpFile)
	must(err)
	delD, err := bareDelete(ctx, db.SQL)
	must(err)
	manualSettle, err := settle(ctx, e.server)
	must(err)
	r.DumpS, r.ManualDeleteS, r.DumpMB = round(dumpD.Seconds(), 3), round(delD.Seconds(), 3), sizeMB(dumpFile)
	r.ManualS = round((dumpD + delD).Seconds(), 3)

	// (c) the bare DELETE alone, with logins running.
	reload()
	var bareD time.Duration
	st = withLogins(func() { bareD, err = bareDelete(ctx, db.SQL) })
	must(err)
	r.BareDeleteS = round(bareD.Seconds(), 3)
	r.LoginP99MSBare, r.LoginMaxMSBare, r.LoginsBare = ms(st.P99), ms(st.Max), st.N

	r.RatioManual = round(toolD.Seconds()/(dumpD+delD).Seconds(), 3)
	r.RatioManualQuiet = round(quietD.Seconds()/(dumpD+delD).Seconds(), 3)
	r.ToolSettleS, r.ManualSettleS = round(toolSettle.Seconds(), 3), round(manualSettle.Seconds(), 3)
	r.RatioSettledQuiet = round((quietD+toolSettle).Seconds()/(dumpD+delD+manualSettle).Seconds(), 3)
	return r
}

// purgeOut is the part of purge's --json the benchmark reads.
type purgeOut struct {
	Deleted    int64   `json:"deleted"`
	Batches    int     `json:"batches"`
	MaxBatchMS float64 `json:"max_batch_ms"`
}

// runTool runs `reauth purge` as an admin would from a script, and returns its --json, its peak
// RSS in KiB and its wall time (process start to exit: connect, plan, lock, purge, verify).
func runTool(ctx context.Context, bin string, db *testenv.DB, backupFile string) (purgeOut, int64, time.Duration, error) {
	var out purgeOut
	cmd := exec.CommandContext(ctx, bin, "purge", "--product", "jira", "--jdbc-url", db.JDBC, "--db-user", db.User,
		"--yes", "--json", "--backup", backupFile)
	if *batchFlag > 0 {
		cmd.Args = append(cmd.Args, "--batch-size", strconv.Itoa(*batchFlag))
	}
	cmd.Env = append(os.Environ(), "REAUTH_DB_PASSWORD="+db.Pass)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	err := cmd.Run()
	d := time.Since(t0)
	if err != nil {
		return out, 0, d, fmt.Errorf("reauth purge: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return out, 0, d, fmt.Errorf("reauth purge --json: %v in %q", err, stdout.String())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return out, 0, d, fmt.Errorf("no rusage for reauth purge on this OS")
	}
	return out, ru.Maxrss, d, nil // Maxrss is in KiB on Linux
}

// dumpGzip runs `<dump> | gzip > file` as two processes joined by a pipe, as the shell does.
func dumpGzip(ctx context.Context, e engine, db *testenv.DB, file string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	dump, err := e.dump(ctx, db)
	if err != nil {
		return 0, err
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	gz := exec.CommandContext(ctx, "gzip", "-c")
	gz.Stdin, gz.Stdout = pr, f
	dump.Stdout = pw
	var dumpErr, gzErr bytes.Buffer
	dump.Stderr, gz.Stderr = &dumpErr, &gzErr
	t0 := time.Now()
	if err := gz.Start(); err != nil {
		pr.Close()
		pw.Close()
		return 0, err
	}
	startErr := dump.Start()
	pr.Close()
	pw.Close() // gzip sees EOF when the dump exits
	if startErr != nil {
		_ = gz.Wait()
		return 0, startErr
	}
	derr := dump.Wait()
	gerr := gz.Wait()
	if derr != nil {
		return 0, fmt.Errorf("%s: %v: %s", dump.Path, derr, dumpErr.String())
	}
	if gerr != nil {
		return 0, fmt.Errorf("gzip: %v: %s", gerr, gzErr.String())
	}
	// The manual way only counts once the dump is on disk, as the tool's backup is.
	if err := f.Sync(); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

// bareDelete is the KB's one statement, on its own autocommit connection.
func bareDelete(ctx context.Context, db *sql.DB) (time.Duration, error) {
	c, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	t0 := time.Now()
	_, err := db.ExecContext(c, "DELETE FROM remembermetoken")
	return time.Since(t0), err
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 1) }

func sizeMB(path string) float64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return round(float64(fi.Size())/(1<<20), 1)
}
