package sqlstore

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reauth/reauth"
)

// A failed backup fsync in the middle of a pipelined purge: the batches waiting on it roll back,
// nothing more is deleted, and table + backup still hold every original row (restore brings the
// table back exactly).
func TestWriterErrorRollsBack(t *testing.T) {
	onServers(t, false, func(t *testing.T, tg target) {
		setupJira(t, tg, 400)
		table, id := tbl(tg)
		before := snapshot(t, tg.sql, table, id)
		s := openStore(t, tg, "jira", Options{})
		ctx := ctxT(t)
		var syncs atomic.Int32
		s.beforeSync = func() error {
			// The manifest's sync at Create does not pass here: the 3rd is a batch's.
			if syncs.Add(1) == 3 {
				return errors.New("disk full (injected)")
			}
			return nil
		}
		path := filepath.Join(t.TempDir(), "b")
		res, err := s.Purge(ctx, PurgeOptions{BatchSize: 50, Workers: 2, BackupPath: path})
		if reauth.CodeOf(err) != reauth.ExitFailed || reauth.HintOf(err) == "" {
			t.Fatalf("purge with a failing fsync: %+v %v", res, err)
		}
		t.Logf("error: %v\n  hint: %s", err, reauth.HintOf(err))
		left := ids(t, tg.sql, table, id)
		// Two good fsyncs before the failing one, each covering one or two batches of 50.
		if res.Deleted != int64(400-len(left)) || res.Deleted < 50 || res.Deleted > 2*2*50 {
			t.Fatalf("deleted %d, %d rows left: only batches fsynced by the first two syncs may commit", res.Deleted, len(left))
		}
		checkTablePlusBackup(t, tg, path, 400)
		if _, err := s.Restore(ctx, path, RestoreOptions{}); err != nil {
			t.Fatal(err)
		}
		equalSnapshots(t, "restored after a failed fsync", before, snapshot(t, tg.sql, table, id))
	})
}

// Two batches in flight, both durable in the backup and neither committed, when the database
// kills the purge's connections: both roll back, the purge reports 0 deleted, the backup holds
// their rows (restore skips them: they still exist), and a rerun with the same cut-off finishes.
func TestTwoBatchesInFlightKilled(t *testing.T) {
	tg := pgTarget(t)
	setupJira(t, tg, 400)
	s := openStore(t, tg, "jira", Options{})
	ctx := ctxT(t)
	var mu sync.Mutex
	arrived, both := 0, make(chan struct{})
	var killed int64
	s.afterSync = func() {
		mu.Lock()
		arrived++
		n := arrived
		mu.Unlock()
		switch {
		case n == 2:
			if err := tg.sql.QueryRow("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() " +
				"AND application_name = 'reauth' AND pid <> pg_backend_pid()").Scan(&killed); err != nil {
				t.Error(err)
			}
			close(both)
		case n == 1:
			select { // wait, durable and uncommitted, until the other worker is too
			case <-both:
			case <-time.After(20 * time.Second):
				t.Error("the second batch never got in flight alongside the first")
			}
		}
	}
	path := filepath.Join(t.TempDir(), "b")
	res, err := s.Purge(ctx, PurgeOptions{BatchSize: 50, Workers: 2, BackupPath: path})
	if err == nil || killed < 2 || res.Deleted != 0 || reauth.HintOf(err) == "" {
		t.Fatalf("purge with both connections killed (killed %d): %+v %v", killed, res, err)
	}
	t.Logf("error: %v\n  hint: %s", err, reauth.HintOf(err))
	if n := len(backupIDs(t, path)); n != 100 {
		t.Fatalf("the backup holds %d rows, want the 2 batches in flight (100)", n)
	}
	checkTablePlusBackup(t, tg, path, 400)
	s.afterSync = nil
	res2, err := s.Purge(ctx, PurgeOptions{CutoffID: res.CutoffID, BackupPath: path + ".2"})
	if err != nil || res2.Deleted != 400 {
		t.Fatalf("rerun: %+v %v", res2, err)
	}
}

// checkTablePlusBackup: every id 1..n is still in the table or in the backup (no row was
// deleted without being backed up).
func checkTablePlusBackup(t *testing.T, tg target, path string, n int64) {
	t.Helper()
	table, id := tbl(tg)
	have := map[int64]bool{}
	for _, x := range ids(t, tg.sql, table, id) {
		have[x] = true
	}
	for _, x := range backupIDs(t, path) {
		have[x] = true
	}
	for x := int64(1); x <= n; x++ {
		if !have[x] {
			t.Fatalf("row %d was deleted but is not in the backup", x)
		}
	}
}

// A caller that has just counted (Plan) passes ToDelete: progress reports it, and Purge does not
// count again; without a fixed cut-off the count is Purge's own.
func TestPurgeToDeleteFromPlan(t *testing.T) {
	tg := sqliteTarget(t)
	setupJira(t, tg, 120)
	s := openStore(t, tg, "jira", Options{})
	ctx := ctxT(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name     string
		o        PurgeOptions
		progress int64
	}{
		{"from plan", PurgeOptions{CutoffID: 60, ToDelete: 59}, 59}, // a stale count is only shown, never used
		{"no cut-off: counted", PurgeOptions{ToDelete: 5}, 60},
	} {
		var seen int64
		tc.o.BatchSize, tc.o.BackupPath = 50, filepath.Join(dir, tc.name)
		tc.o.Progress = func(p PurgeProgress) { seen = p.ToDelete }
		res, err := s.Purge(ctx, tc.o)
		if err != nil || res.Deleted != 60 || seen != tc.progress {
			t.Fatalf("%s: %+v %v, progress ToDelete %d", tc.name, res, err, seen)
		}
	}
}

// Ctrl-C twice while a batch waits on a row lock held by the product: the first interrupt lets
// the batch finish (it cannot), the second (the context) abandons it at once: it rolls back, the
// purge exits 130 with the way to finish, nothing was deleted without its backup, and a rerun
// with the same cut-off completes once the lock is gone.
func TestSecondInterruptAbandonsBatch(t *testing.T) {
	tg := pgTarget(t)
	setupJira(t, tg, 400)
	table, id := tbl(tg)
	s := openStore(t, tg, "jira", Options{})
	lockTx, err := tg.sql.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer lockTx.Rollback()
	if _, err := lockTx.Exec("SELECT 1 FROM " + table + " WHERE " + id + " = 10 FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	stop, interrupt := reauth.NewStop()
	abort, abortNow := context.WithCancel(ctxT(t))
	path := filepath.Join(t.TempDir(), "b")
	type out struct {
		res PurgeResult
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := s.Purge(abort, PurgeOptions{BatchSize: 50, Workers: 1, BackupPath: path, Stop: stop})
		done <- out{res, err}
	}()
	// Wait until the batch is blocked on the lock.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waiting int
		if err := tg.sql.QueryRow("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() " +
			"AND application_name = 'reauth' AND wait_event_type = 'Lock'").Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the purge's batch never waited on the row lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	interrupt()
	select {
	case o := <-done:
		t.Fatalf("the first interrupt abandoned a batch in flight: %+v %v", o.res, o.err)
	case <-time.After(300 * time.Millisecond):
	}
	t0 := time.Now()
	abortNow()
	var o out
	select {
	case o = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the second interrupt did not abandon the blocked batch")
	}
	if reauth.CodeOf(o.err) != reauth.ExitInterrupted || !strings.Contains(reauth.HintOf(o.err), "--cutoff-id") || o.res.Deleted != 0 {
		t.Fatalf("after the second interrupt (%v): %+v %v", time.Since(t0), o.res, o.err)
	}
	t.Logf("abandoned in %v: %v\n  hint: %s", time.Since(t0), o.err, reauth.HintOf(o.err))
	checkTablePlusBackup(t, tg, path, 400)
	if n := len(ids(t, tg.sql, table, id)); n != 400 {
		t.Fatalf("%d rows left, want 400: the abandoned batch must roll back", n)
	}
	lockTx.Rollback()
	res, err := s.Purge(ctxT(t), PurgeOptions{CutoffID: o.res.CutoffID, BackupPath: path + ".2"})
	if err != nil || res.Deleted != 400 {
		t.Fatalf("rerun: %+v %v", res, err)
	}
}
