// Package purge benchmarks `reauth purge` on the real PostgreSQL and MariaDB against the manual
// procedure of Atlassian's KB, on a Jira remembermetoken table (the real DDL) of N tokens over
// 10,000 users. In one run, reloading the same rows before each step, it measures:
//
//	(a) tool:   the real reauth binary, `purge --yes --json --backup FILE` (batched, each batch
//	            fsynced to the backup before it commits, the backup re-read and checked);
//	(b) manual: pg_dump -t / mariadb-dump of the table piped to gzip, then DELETE FROM remembermetoken;
//	(c) bare:   DELETE FROM remembermetoken alone.
//
// (a) and (b) are compared alike: both without other load (tool_s, manual_s, ratio_manual, the
// target), and both again while a "login" loop inserts token rows one per statement on its own
// connection, as fast as it can (tool_logins_s, manual_logins_s, ratio_manual_logins). The loop
// also runs during (c), and its p99 latency is reported for (a), (b) and (c): a batched purge
// must not stall logins as one huge DELETE can. The loop competes for the same CPUs, so the
// mixed figure (a) with the loop against (b) without it is reported too
// (ratio_tool_logins_manual_quiet), not taken as the target. Then:
//
//	(d) floor:  the same rows deleted in 5000-id ranges, one autocommit DELETE each, by one
//	            client that reads nothing back and writes no backup: what the database itself
//	            needs for a batched delete, the floor of any batched purge on this machine.
//
// After the quiet (a), (b) and (d), it waits until the database server is idle and reports how
// long it stayed busy (settle): InnoDB purges a bare DELETE's rows after the statement returns.
// It prints one JSON line per engine and row count (engine, rows, tool_s, manual_s,
// bare_delete_s, ratio_manual, max_batch_ms, peak_rss_mb, login_p99_ms_tool, login_p99_ms_bare,
// and the parts behind them). Targets (reported, not asserted): ratio_manual <= 1.0, longest
// batch <= 200 ms, peak RSS <= 100 MiB and flat from 100k to 1M rows.
//
//	go test ./bench/purge -run '^$' -bench . -benchtime 1x [-rows 100000,1000000] [-logins=false] [-batch-size N] [-repeat N]
//
// With -baseline BIN (a reauth binary built from an earlier commit) it measures instead, on the
// same reloaded rows each time: the login loop alone on the idle database (the reference p99),
// then BIN and this tree's binary, quiet and with the login loop, and prints their purge times,
// longest batches and login p99 as ratios (lock_test.go). There, -rest R runs this tree's binary
// with --rest R, and -floor-duty 1,0.5,0.25 adds the database's own batched delete (no backup,
// one client) under the login loop at those duty cycles.
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

	"filippo.io/age"

	"github.com/reauth/reauth/internal/testenv"
)

var (
	rowsFlag   = flag.String("rows", "", "comma-separated row counts (default 100000,1000000; or REAUTH_BENCH_ROWS)")
	loginsFlag = flag.Bool("logins", true, "also run (a) and (b) with the concurrent login loop, and (c) with it")
	batchFlag  = flag.Int("batch-size", 0, "reauth purge --batch-size (default: reauth's own default)")
	repeatFlag = flag.Int("repeat", 1, "runs per engine and row count; with more than one, a line of medians follows")
)

// result is one engine and row count: the JSON line the benchmark prints.
type result struct {
	Engine string `json:"engine"`
	Rows   int    `json:"rows"`
	// (a) and (b) without other load: the target's comparison.
	ToolS       float64 `json:"tool_s"`
	ManualS     float64 `json:"manual_s"`
	BareDeleteS float64 `json:"bare_delete_s"` // (c), with the login loop
	RatioManual float64 `json:"ratio_manual"`  // tool_s / manual_s
	MaxBatchMS  float64 `json:"max_batch_ms"`  // the longest batch of both (a) runs
	PeakRSSMB   float64 `json:"peak_rss_mb"`   // the larger of both (a) runs
	// The login loop's latency during (a), (b) and (c).
	LoginP99MSTool   float64 `json:"login_p99_ms_tool"`
	LoginP99MSManual float64 `json:"login_p99_ms_manual"`
	LoginP99MSBare   float64 `json:"login_p99_ms_bare"`
	// (a) and (b) again, both with the login loop: like for like under load.
	ToolLoginsS       float64 `json:"tool_logins_s"`
	ManualLoginsS     float64 `json:"manual_logins_s"`
	RatioManualLogins float64 `json:"ratio_manual_logins"`
	// (a) with the loop against (b) without it: reported, not the target (the loop takes CPU
	// from (a) only).
	RatioToolLoginsManualQuiet float64 `json:"ratio_tool_logins_manual_quiet"`
	// The parts behind the figures above.
	Batches          int     `json:"batches"`
	BatchesLogins    int     `json:"batches_logins"`
	Deleted          int64   `json:"deleted"`
	DumpS            float64 `json:"dump_s"`
	ManualDeleteS    float64 `json:"manual_delete_s"`
	BackupMB         float64 `json:"backup_mb"`
	DumpMB           float64 `json:"dump_mb"`
	MaxBatchMSQuiet  float64 `json:"max_batch_ms_quiet"`
	MaxBatchMSLogins float64 `json:"max_batch_ms_logins"`
	LoginMaxMSTool   float64 `json:"login_max_ms_tool"`
	LoginMaxMSManual float64 `json:"login_max_ms_manual"`
	LoginMaxMSBare   float64 `json:"login_max_ms_bare"`
	LoginsTool       int     `json:"logins_tool"`
	LoginsManual     int     `json:"logins_manual"`
	LoginsBare       int     `json:"logins_bare"`
	LoadS            float64 `json:"load_s"`
	// (d) the database's own floor for a batched delete, and how long each quiet way left the
	// server busy after it returned (settle); ratio_settled counts that on both sides.
	FloorS        float64 `json:"floor_s"`
	ToolSettleS   float64 `json:"tool_settle_s"`
	ManualSettleS float64 `json:"manual_settle_s"`
	FloorSettleS  float64 `json:"floor_settle_s"`
	RatioSettled  float64 `json:"ratio_settled"`
	RatioFloor    float64 `json:"ratio_floor"` // tool_s / floor_s
	// (a) again with its backup encrypted (age, one X25519 recipient): the cost of encryption,
	// measured in the same run. Target: ratio_encrypted <= 1.15.
	ToolEncryptedS float64 `json:"tool_encrypted_s"`
	RatioEncrypted float64 `json:"ratio_encrypted"` // tool_encrypted_s / tool_s
	// The same comparison in CPU time (user + system) of the reauth process, which other
	// tenants of a shared machine disturb far less than wall time.
	ToolCPUS          float64 `json:"tool_cpu_s"`
	ToolEncryptedCPUS float64 `json:"tool_encrypted_cpu_s"`
	RatioEncryptedCPU float64 `json:"ratio_encrypted_cpu"`
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
				if *baselineFlag != "" {
					var all []lockResult
					for i := 0; i < max(*repeatFlag, 1); i++ {
						r := runLock(b, e, db, bin, *baselineFlag, rows, i)
						all = append(all, r)
						line, _ := json.Marshal(r)
						fmt.Println(string(line))
						b.Log(lockLabel(r))
					}
					sum := lockSummary(all)
					line, _ := json.Marshal(sum)
					fmt.Println(string(line))
					b.ReportMetric(sum["median_ratio_time"].(float64), "ratio_time")
					b.ReportMetric(sum["median_ratio_login_p99_tool_idle"].(float64), "login_p99/idle")
					b.ReportMetric(sum["worst_tool_max_batch_ms"].(float64), "max_batch_ms")
					return
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
				med := func(f func(result) float64) float64 { return medianOf(all, f) }
				worst := func(f func(result) float64) float64 { return worstOf(all, f) }
				sum := map[string]any{"engine": e.name, "rows": rows, "runs": len(all),
					"median_ratio_manual":                   med(func(r result) float64 { return r.RatioManual }),
					"median_ratio_manual_logins":            med(func(r result) float64 { return r.RatioManualLogins }),
					"median_ratio_tool_logins_manual_quiet": med(func(r result) float64 { return r.RatioToolLoginsManualQuiet }),
					"median_ratio_settled":                  med(func(r result) float64 { return r.RatioSettled }),
					"median_ratio_floor":                    med(func(r result) float64 { return r.RatioFloor }),
					"median_tool_s":                         med(func(r result) float64 { return r.ToolS }),
					"median_ratio_encrypted":                med(func(r result) float64 { return r.RatioEncrypted }),
					"median_ratio_encrypted_cpu":            med(func(r result) float64 { return r.RatioEncryptedCPU }),
					"median_manual_s":                       med(func(r result) float64 { return r.ManualS }),
					"median_tool_logins_s":                  med(func(r result) float64 { return r.ToolLoginsS }),
					"median_manual_logins_s":                med(func(r result) float64 { return r.ManualLoginsS }),
					"median_floor_s":                        med(func(r result) float64 { return r.FloorS }),
					"max_batch_ms":                          worst(func(r result) float64 { return r.MaxBatchMS }),
					"peak_rss_mb":                           worst(func(r result) float64 { return r.PeakRSSMB }),
					"median_login_p99_ms_tool":              med(func(r result) float64 { return r.LoginP99MSTool }),
					"median_login_p99_ms_manual":            med(func(r result) float64 { return r.LoginP99MSManual }),
					"median_login_p99_ms_bare":              med(func(r result) float64 { return r.LoginP99MSBare }),
				}
				line, _ := json.Marshal(sum)
				fmt.Println(string(line))
				b.ReportMetric(sum["median_tool_s"].(float64), "tool_s")
				b.ReportMetric(sum["median_ratio_manual"].(float64), "ratio_manual")
				b.ReportMetric(sum["median_ratio_manual_logins"].(float64), "ratio_manual_logins")
				b.ReportMetric(sum["max_batch_ms"].(float64), "max_batch_ms")
				b.ReportMetric(sum["peak_rss_mb"].(float64), "peak_rss_mb")
			})
		}
	}
}

// runOnce measures (a), (b), (c) and (d) on freshly reloaded rows each.
func runOnce(b *testing.B, e engine, db *testenv.DB, bin string, rows int) result {
	ctx, cancel := context.WithTimeout(b.Context(), 45*time.Minute)
	defer cancel()
	dir := b.TempDir()
	r := result{Engine: e.name, Rows: rows}
	must := fatalOn(b)
	reload := reloader(ctx, b, e, db, rows, &r.LoadS, nil)
	withLogins := loginLoop(ctx, b, e, db)
	settled := func() time.Duration {
		b.Helper()
		d, err := settle(ctx, e.server)
		must(err)
		return d
	}
	var lastCPU time.Duration
	tool := func(name string, extra ...string) (purgeOut, int64, time.Duration) {
		b.Helper()
		backupFile := filepath.Join(dir, name+".jsonl.gz")
		out, rss, d, cpu, err := purgeAll(ctx, bin, db, backupFile, rows, extra...)
		lastCPU = cpu
		must(err)
		r.BackupMB = sizeMB(backupFile)
		return out, rss, d
	}
	manual := func(name string) (dump, del time.Duration) {
		b.Helper()
		dumpFile := filepath.Join(dir, name+".sql.gz")
		dump, err := dumpGzip(ctx, e, db, dumpFile)
		must(err)
		del, err = bareDelete(ctx, db.SQL)
		must(err)
		r.DumpMB = sizeMB(dumpFile)
		return dump, del
	}

	// (a) reauth purge, the real binary, with its verified backup.
	reload()
	out, rss, toolD := tool("tool")
	toolCPU := lastCPU
	toolSettle := settled()
	r.ToolS, r.Deleted, r.Batches, r.MaxBatchMSQuiet = round(toolD.Seconds(), 3), out.Deleted, out.Batches, round(out.MaxBatchMS, 1)
	r.MaxBatchMS, r.PeakRSSMB = r.MaxBatchMSQuiet, round(float64(rss)/1024, 1)

	// (a') the same purge, its backup encrypted to one age recipient.
	id, err := age.GenerateX25519Identity()
	must(err)
	reload()
	_, _, encD := tool("tool-encrypted", "--backup-recipient", id.Recipient().String())
	settled()
	r.ToolEncryptedS, r.RatioEncrypted = round(encD.Seconds(), 3), round(encD.Seconds()/toolD.Seconds(), 3)
	r.ToolCPUS, r.ToolEncryptedCPUS = round(toolCPU.Seconds(), 3), round(lastCPU.Seconds(), 3)
	r.RatioEncryptedCPU = round(lastCPU.Seconds()/toolCPU.Seconds(), 3)

	// (b) the KB's manual procedure done well: dump | gzip > file, then a bare DELETE.
	reload()
	dumpD, delD := manual("manual")
	manualSettle := settled()
	r.DumpS, r.ManualDeleteS = round(dumpD.Seconds(), 3), round(delD.Seconds(), 3)
	r.ManualS = round((dumpD + delD).Seconds(), 3)

	// (d) the database's floor: batched deletes with nothing read back and no backup.
	reload()
	floorD, err := floorDelete(ctx, db.SQL, rows)
	must(err)
	floorSettle := settled()
	r.FloorS = round(floorD.Seconds(), 3)

	r.RatioManual = round(toolD.Seconds()/(dumpD+delD).Seconds(), 3)
	r.ToolSettleS, r.ManualSettleS, r.FloorSettleS = round(toolSettle.Seconds(), 3), round(manualSettle.Seconds(), 3), round(floorSettle.Seconds(), 3)
	r.RatioSettled = round((toolD+toolSettle).Seconds()/(dumpD+delD+manualSettle).Seconds(), 3)
	r.RatioFloor = round(toolD.Seconds()/floorD.Seconds(), 3)
	if !*loginsFlag {
		return r
	}

	// (a) and (b) again, with the login loop.
	reload()
	var outL purgeOut
	var rssL int64
	var toolL time.Duration
	st := withLogins(func() { outL, rssL, toolL = tool("tool-logins") })
	r.ToolLoginsS, r.BatchesLogins, r.MaxBatchMSLogins = round(toolL.Seconds(), 3), outL.Batches, round(outL.MaxBatchMS, 1)
	r.MaxBatchMS, r.PeakRSSMB = max(r.MaxBatchMS, r.MaxBatchMSLogins), max(r.PeakRSSMB, round(float64(rssL)/1024, 1))
	r.LoginP99MSTool, r.LoginMaxMSTool, r.LoginsTool = ms(st.P99), ms(st.Max), st.N

	reload()
	var dumpL, delL time.Duration
	st = withLogins(func() { dumpL, delL = manual("manual-logins") })
	r.ManualLoginsS = round((dumpL + delL).Seconds(), 3)
	r.LoginP99MSManual, r.LoginMaxMSManual, r.LoginsManual = ms(st.P99), ms(st.Max), st.N

	// (c) the bare DELETE alone, with logins running.
	reload()
	var bareD time.Duration
	st = withLogins(func() { bareD, err = bareDelete(ctx, db.SQL) })
	must(err)
	r.BareDeleteS = round(bareD.Seconds(), 3)
	r.LoginP99MSBare, r.LoginMaxMSBare, r.LoginsBare = ms(st.P99), ms(st.Max), st.N

	r.RatioManualLogins = round(toolL.Seconds()/(dumpL+delL).Seconds(), 3)
	r.RatioToolLoginsManualQuiet = round(toolL.Seconds()/(dumpD+delD).Seconds(), 3)
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
func runTool(ctx context.Context, bin string, db *testenv.DB, backupFile string, extra ...string) (purgeOut, int64, time.Duration, time.Duration, error) {
	var out purgeOut
	cmd := exec.CommandContext(ctx, bin, append([]string{"purge", "--product", "jira", "--jdbc-url", db.JDBC, "--db-user", db.User,
		"--yes", "--json", "--backup", backupFile}, extra...)...)
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
		return out, 0, d, 0, fmt.Errorf("reauth purge: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return out, 0, d, 0, fmt.Errorf("reauth purge --json: %v in %q", err, stdout.String())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return out, 0, d, 0, fmt.Errorf("no rusage for reauth purge on this OS")
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return out, ru.Maxrss, d, cpu, nil // Maxrss is in KiB on Linux
}

// fatalOn is a check that ends the benchmark on an error.
func fatalOn(b *testing.B) func(error) {
	return func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
}

// purgeAll is runTool, checked: it deleted every loaded row.
func purgeAll(ctx context.Context, bin string, db *testenv.DB, backupFile string, rows int, extra ...string) (purgeOut, int64, time.Duration, time.Duration, error) {
	out, rss, d, cpu, err := runTool(ctx, bin, db, backupFile, extra...)
	if err != nil {
		return out, rss, d, cpu, err
	}
	if out.Deleted < int64(rows) {
		return out, rss, d, cpu, fmt.Errorf("%s purge (%s) deleted %d rows, want at least %d", bin, filepath.Base(backupFile), out.Deleted, rows)
	}
	left, err := leftBelow(ctx, db.SQL, rows)
	if err == nil && left != 0 {
		err = fmt.Errorf("%s purge (%s) left %d of the loaded rows", bin, filepath.Base(backupFile), left)
	}
	return out, rss, d, cpu, err
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

// floorRange is the id range of one (d) floor DELETE.
const floorRange = 5000

// floorDelete deletes ids 1..rows in floorRange ranges, one autocommit statement each, in id
// order on one connection, reading nothing back: the database's own cost of a batched delete.
func floorDelete(ctx context.Context, db *sql.DB, rows int) (time.Duration, error) {
	d, _, err := pacedFloorDelete(ctx, db, rows, 1)
	return d, err
}

// pacedFloorDelete is floorDelete at a duty cycle: after each statement it rests
// (1-duty)/duty of the statement's time, so that the database works duty of the wall time. It
// also returns its longest statement: the database's own stalls, with no client work inside.
func pacedFloorDelete(ctx context.Context, db *sql.DB, rows int, duty float64) (time.Duration, time.Duration, error) {
	c, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	conn, err := db.Conn(c)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	t0 := time.Now()
	var longest time.Duration
	for lo := 0; lo < rows; lo += floorRange {
		q := fmt.Sprintf("DELETE FROM remembermetoken WHERE id > %d AND id <= %d", lo, min(lo+floorRange, rows))
		t1 := time.Now()
		if _, err := conn.ExecContext(c, q); err != nil {
			return 0, 0, fmt.Errorf("floor: %s: %w", q, err)
		}
		d := time.Since(t1)
		longest = max(longest, d)
		if duty < 1 {
			time.Sleep(time.Duration(float64(d) * (1 - duty) / duty))
		}
	}
	return time.Since(t0), longest, nil
}

// bareDelete is the KB's one statement, on its own autocommit connection.
func bareDelete(ctx context.Context, db *sql.DB) (time.Duration, error) {
	c, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	t0 := time.Now()
	_, err := db.ExecContext(c, "DELETE FROM remembermetoken")
	return time.Since(t0), err
}

// medianOf is the middle value of f over runs (the upper one of an even count).
func medianOf[T any](runs []T, f func(T) float64) float64 {
	v := make([]float64, len(runs))
	for i, r := range runs {
		v[i] = f(r)
	}
	sort.Float64s(v)
	return v[len(v)/2]
}

// worstOf is the largest value of f over runs.
func worstOf[T any](runs []T, f func(T) float64) float64 {
	m := 0.0
	for _, r := range runs {
		m = max(m, f(r))
	}
	return m
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
