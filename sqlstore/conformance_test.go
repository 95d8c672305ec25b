package sqlstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/backup"
)

// The conformance suite: the same tests, against every engine with a real server here.

const seedRows = 500

func tbl(tg target) (table, id string) {
	if tg.name == "mariadb" {
		return "remembermetoken", "`ID`"
	}
	return "remembermetoken", "id"
}

func backupIDs(t *testing.T, path string) []int64 {
	t.Helper()
	r, err := backup.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	idx := -1
	for i, c := range r.Manifest().Columns {
		if c.Name == r.Manifest().IDColumn {
			idx = i
		}
	}
	var out []int64
	for {
		v, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v[idx].(int64))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func TestConformance(t *testing.T) {
	for _, e := range targets {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			t.Run("inspect purge restore round trip", func(t *testing.T) { roundTrip(t, e.open(t), false) })
			// SQL Server, Oracle and MySQL have no DELETE … RETURNING: their path (SELECT … FOR
			// UPDATE, then DELETE by the ids) runs here too, on the real servers.
			t.Run("select then delete", func(t *testing.T) { roundTrip(t, e.open(t), true) })
			t.Run("user filters and before", func(t *testing.T) { filters(t, e.open(t)) })
			t.Run("cancel mid purge", func(t *testing.T) { cancelMidPurge(t, e.open(t)) })
			t.Run("lock held", func(t *testing.T) { lockHeld(t, e.open(t)) })
			t.Run("sparse ids", func(t *testing.T) { sparseIDs(t, e.open(t)) })
			t.Run("refusals", func(t *testing.T) { refusals(t, e.open(t)) })
			t.Run("extreme times", func(t *testing.T) { extremeTimes(t, e.open(t)) })
			t.Run("huge exclude list", func(t *testing.T) { hugeExcludeList(t, e.open(t)) })
		})
	}
}

func roundTrip(t *testing.T, tg target, selectThenDelete bool) {
	t0 := time.Now()
	defer func() { t.Logf("round trip %s", time.Since(t0)) }()
	ctx := ctxT(t)
	setupJira(t, tg, seedRows)
	table, id := tbl(tg)
	before := snapshot(t, tg.sql, table, id)
	t.Logf("seeded %s", time.Since(t0))
	s := openStore(t, tg, "jira", Options{})
	s.noReturning = selectThenDelete
	if _, ok := s.dialect.(returningDeleter); !ok || (tg.name == "mariadb" && !s.dialect.(MySQL).Returning) {
		t.Fatalf("%s: DELETE … RETURNING not detected", tg.name)
	}
	in, err := s.Inspect(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if in.Total != seedRows || in.Users != 5 || len(in.Top) != 3 || in.Oldest == nil || in.Newest == nil {
		t.Fatalf("inspect: %+v", in)
	}
	if !in.Oldest.Equal(seedBase.Add(time.Minute)) || !in.Newest.Equal(seedBase.Add(seedRows*time.Minute)) {
		t.Fatalf("oldest %v newest %v", in.Oldest, in.Newest)
	}
	names := map[string]bool{}
	for _, u := range in.Top {
		names[u.User] = true
		if u.Count != seedRows/5 {
			t.Errorf("top user %+v: want %d tokens", u, seedRows/5)
		}
	}
	plan, err := s.Plan(ctx, PurgeOptions{BatchSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	if plan.CutoffID != seedRows || plan.ToDelete != seedRows || plan.ToKeep != 0 || len(plan.SQL) != 1+btoi(selectThenDelete) ||
		strings.Contains(plan.SQL[0], "RETURNING") == selectThenDelete {
		t.Fatalf("plan %+v", plan)
	}
	if got := snapshot(t, tg.sql, table, id); len(got) != seedRows {
		t.Fatal("plan changed the table")
	}
	// Rows inserted after the plan (users logging in again) are newer than the cut-off: kept.
	seedJira(t, tg, seedRows+1, 7)
	newer := snapshot(t, tg.sql, table, id)[seedRows:]
	path := filepath.Join(t.TempDir(), "b.jsonl.gz")
	var progress int
	res, err := s.Purge(ctx, PurgeOptions{CutoffID: plan.CutoffID, BatchSize: 64, BackupPath: path,
		Progress: func(p PurgeProgress) {
			progress++
			if progress == 1 {
				seedJira(t, tg, seedRows+100, 3) // concurrent logins during the purge
			}
		}})
	if err != nil {
		t.Fatalf("purge: %v (hint %s)", err, reauth.HintOf(err))
	}
	if res.Deleted != seedRows || res.Kept != 10 || res.Batches != 8 || res.SHA256 == "" || res.MaxBatchMS <= 0 || progress != 8 {
		t.Fatalf("purge result %+v (progress calls %d)", res, progress)
	}
	if n, err := s.Remaining(ctx, res.CutoffID, PurgeOptions{}); err != nil || n != 0 {
		t.Fatalf("remaining %d %v", n, err)
	}
	after := snapshot(t, tg.sql, table, id)
	if len(after) != 10 || after[0] != newer[0] {
		t.Fatalf("kept rows: %v", after)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("backup mode %v", st.Mode())
	}
	if v, err := backup.Verify(path); err != nil || v.Rows != seedRows || v.SHA256 != res.SHA256 {
		t.Fatalf("verify %+v %v", v, err)
	}
	// The same file name again: never overwritten.
	if _, err := s.Purge(ctx, PurgeOptions{BackupPath: path}); reauth.CodeOf(err) != reauth.ExitRefused {
		t.Fatalf("purge onto an existing backup: %v", err)
	}
	t.Logf("purged %s", time.Since(t0))
	rr, err := s.Restore(ctx, path, RestoreOptions{BatchSize: 100})
	t.Logf("restored %s", time.Since(t0))
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if rr.Restored != seedRows || rr.Skipped != 0 {
		t.Fatalf("restore %+v", rr)
	}
	got := snapshot(t, tg.sql, table, id)
	equalSnapshots(t, "after restore", append(append([]string{}, before...), after...), got)
	// Idempotent: a second restore changes nothing.
	rr, err = s.Restore(ctx, path, RestoreOptions{})
	if err != nil || rr.Restored != 0 || rr.Skipped != seedRows {
		t.Fatalf("second restore %+v %v", rr, err)
	}
	equalSnapshots(t, "after second restore", got, snapshot(t, tg.sql, table, id))
}

func filters(t *testing.T, tg target) {
	ctx := ctxT(t)
	setupJira(t, tg, 100)
	table, id := tbl(tg)
	s := openStore(t, tg, "jira", Options{})
	dir := t.TempDir()
	// alice is stored by user key: --exclude-user ALICE (any case) keeps her rows.
	res, err := s.Purge(ctx, PurgeOptions{ExcludeUsers: []string{"ALICE", "bob"}, BackupPath: filepath.Join(dir, "1")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 60 || res.Kept != 40 {
		t.Fatalf("exclude: %+v", res)
	}
	left := ids(t, tg.sql, table, id)
	for _, x := range left {
		if x%5 != 0 && x%5 != 1 {
			t.Fatalf("exclude kept row %d of another user", x)
		}
	}
	if _, err := s.Restore(ctx, filepath.Join(dir, "1"), RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	// --user only: just alice's (by key) and carol's rows go.
	res, err = s.Purge(ctx, PurgeOptions{Users: []string{"alice", "Carol"}, BackupPath: filepath.Join(dir, "2")})
	if err != nil || res.Deleted != 40 {
		t.Fatalf("--user: %+v %v", res, err)
	}
	for _, x := range backupIDs(t, filepath.Join(dir, "2")) {
		if x%5 != 0 && x%5 != 2 {
			t.Fatalf("--user deleted row %d of another user", x)
		}
	}
	if _, err := s.Restore(ctx, filepath.Join(dir, "2"), RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	// --before: rows created before minute 30 (NULL times are not "before" anything).
	cut := seedBase.Add(30 * time.Minute)
	plan, err := s.Plan(ctx, PurgeOptions{Before: &cut})
	if err != nil {
		t.Fatal(err)
	}
	res, err = s.Purge(ctx, PurgeOptions{Before: &cut, BackupPath: filepath.Join(dir, "3")})
	if err != nil || res.Deleted != 28 || plan.ToDelete != 28 { // ids 1..29 except 17
		t.Fatalf("--before: %+v plan %+v %v", res, plan, err)
	}
}

func cancelMidPurge(t *testing.T, tg target) {
	setupJira(t, tg, 300)
	table, id := tbl(tg)
	all := ids(t, tg.sql, table, id)
	s := openStore(t, tg, "jira", Options{})
	stop, interrupt := reauth.NewStop()
	path := filepath.Join(t.TempDir(), "b")
	res, err := s.Purge(ctxT(t), PurgeOptions{BatchSize: 50, BackupPath: path, Stop: stop, Progress: func(p PurgeProgress) {
		if p.Batches == 2 {
			interrupt() // Ctrl-C after the second batch: the batches in flight finish, no new one starts
		}
	}})
	// The worker that reported the second batch stops; the others finish the one they had.
	inFlight := int64(50 * (s.workers(PurgeOptions{}) - 1))
	if reauth.CodeOf(err) != reauth.ExitInterrupted || reauth.HintOf(err) == "" || res.Deleted < 100 || res.Deleted > 100+inFlight || res.Deleted%50 != 0 {
		t.Fatalf("interrupted purge: %+v %v", res, err)
	}
	left := ids(t, tg.sql, table, id)
	gone := map[int64]bool{}
	for _, x := range all {
		gone[x] = true
	}
	for _, x := range left {
		delete(gone, x)
	}
	got := backupIDs(t, path)
	if len(got) != len(gone) {
		t.Fatalf("backup holds %d rows, %d were deleted", len(got), len(gone))
	}
	for _, x := range got {
		if !gone[x] {
			t.Fatalf("backup row %d was not deleted", x)
		}
	}
	if _, err := backup.Verify(path); err != nil {
		t.Fatalf("interrupted purge left an unfinished backup: %v", err)
	}
	// Continue with the same cut-off.
	res2, err := s.Purge(ctxT(t), PurgeOptions{CutoffID: res.CutoffID, BackupPath: path + "2"})
	if err != nil || res2.Deleted != 300-res.Deleted {
		t.Fatalf("resume: %+v %v", res2, err)
	}
}

func lockHeld(t *testing.T, tg target) {
	ctx := ctxT(t)
	setupJira(t, tg, 1)
	a := openStore(t, tg, "jira", Options{})
	b := openStore(t, tg, "jira", Options{})
	release, err := a.Lock(ctx, "purge")
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Lock(ctx, "purge")
	if reauth.CodeOf(err) != reauth.ExitLocked {
		t.Fatalf("second lock: %v (code %d), want exit 5", err, reauth.CodeOf(err))
	}
	t.Logf("held: %v", err)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	rel2, err := b.Lock(ctx, "purge")
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	rel2()
}

func refusals(t *testing.T, tg target) {
	ctx := ctxT(t)
	_, err := Open(ctx, tg.db, product(t, "jira"), Options{})
	if reauth.CodeOf(err) != reauth.ExitRefused {
		t.Fatalf("missing table: %v", err)
	}
	mustExec(t, tg.sql, "CREATE TABLE remembermetoken (id INTEGER NOT NULL PRIMARY KEY, token VARCHAR(255))")
	_, err = Open(ctx, tg.db, product(t, "jira"), Options{})
	if reauth.CodeOf(err) != reauth.ExitRefused {
		t.Fatalf("wrong columns: %v", err)
	}
	t.Logf("wrong columns: %v", err)
	// Fisheye: one table named like "remember": still needs --table to confirm.
	mustExec(t, tg.sql, "CREATE TABLE fe_remember_me (id INTEGER NOT NULL PRIMARY KEY, username VARCHAR(255), token VARCHAR(255), created TIMESTAMP NULL)")
	mustExec(t, tg.sql, "DROP TABLE remembermetoken")
	_, err = Open(ctx, tg.db, product(t, "fisheye"), Options{})
	if reauth.CodeOf(err) != reauth.ExitRefused || !errors.Is(err, err) {
		t.Fatalf("fisheye without --table: %v", err)
	}
	s := openStore(t, tg, "fisheye", Options{Table: "FE_REMEMBER_ME"})
	if s.Table().Name != "fe_remember_me" {
		t.Fatalf("fisheye table %+v", s.Table())
	}
}

// Ids with gaps far wider than a batch (Jira DC nodes allocate id blocks; old tokens expire):
// every row up to the cut-off is purged, none above, whatever the spacing.
func sparseIDs(t *testing.T, tg target) {
	setupJira(t, tg, 0)
	for _, start := range []int{1, 1000, 1000000, 5000000000} {
		seedJira(t, tg, start, 7)
	}
	seedJira(t, tg, 9000000000, 3) // above the cut-off given below
	table, id := tbl(tg)
	s := openStore(t, tg, "jira", Options{})
	res, err := s.Purge(ctxT(t), PurgeOptions{CutoffID: 5000000006, BatchSize: 4, BackupPath: filepath.Join(t.TempDir(), "b"),
		ExcludeUsers: []string{"carol"}})
	if err != nil {
		t.Fatal(err)
	}
	left := ids(t, tg.sql, table, id)
	var carol int
	for _, x := range left {
		if x < 9000000000 && x%5 != 2 {
			t.Fatalf("row %d left behind (left: %v)", x, left)
		}
		if x < 9000000000 {
			carol++
		}
	}
	if res.Deleted != int64(28-carol) || res.Kept != int64(len(left)) || len(left) != carol+3 {
		t.Fatalf("%+v, left %v", res, left)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// extremeTimes holds each engine's edge values of a time column: PostgreSQL's infinity,
// -infinity, BC dates and years past 9999; MariaDB's DATETIME range ends and its zero date
// (MariaDB has no infinity). inspect reads them, a purge (both delete paths) backs them up and
// deletes them, and a restore puts them back row for row.
func extremeTimes(t *testing.T, tg target) {
	var vals []string
	switch tg.name {
	case "postgres":
		vals = []string{"infinity", "-infinity", "0044-03-15 10:00:00+00 BC", "4713-01-01 00:00:00+00 BC",
			"294276-12-31 23:59:59.999999+00", "9999-12-31 23:59:59.999999+00", "0001-01-01 00:00:00+00"}
	case "mariadb":
		vals = []string{"1000-01-01 00:00:00", "9999-12-31 23:59:59", "0000-00-00 00:00:00", "0001-01-01 00:00:00"}
	default:
		vals = []string{"0001-01-01 00:00:00", "9999-12-31 23:59:59.999999999"}
	}
	ctx := ctxT(t)
	table, id := tbl(tg)
	for _, selectThenDelete := range []bool{false, true} {
		mustExec(t, tg.sql, "DROP TABLE IF EXISTS remembermetoken")
		mustExec(t, tg.sql, "DROP TABLE IF EXISTS app_user")
		setupJira(t, tg, 40)
		p := tg.d.Placeholder
		for i, v := range vals {
			mustExec(t, tg.sql, fmt.Sprintf("INSERT INTO remembermetoken VALUES (%s, %s, %s, %s)", p(1), p(2), p(3), p(4)), 1000+i, v, fmt.Sprintf("x%d", i), "bob")
		}
		before := snapshot(t, tg.sql, table, id)
		s := openStore(t, tg, "jira", Options{})
		s.noReturning = selectThenDelete
		in, err := s.Inspect(ctx, 3)
		if err != nil || in.Total != int64(len(before)) {
			t.Fatalf("inspect: %+v %v", in, err)
		}
		if tg.name == "postgres" && (in.OldestText != "-infinity" || in.NewestText != "infinity" || in.Oldest != nil || in.Newest != nil) {
			t.Fatalf("inspect oldest %v %q newest %v %q", in.Oldest, in.OldestText, in.Newest, in.NewestText)
		}
		if _, err := json.Marshal(in); err != nil {
			t.Fatalf("inspect --json: %v", err)
		}
		path := filepath.Join(t.TempDir(), "b")
		res, err := s.Purge(ctx, PurgeOptions{BatchSize: 8, BackupPath: path})
		if err != nil || res.Deleted != int64(len(before)) {
			t.Fatalf("purge (select then delete %v): %+v %v", selectThenDelete, res, err)
		}
		if got := snapshot(t, tg.sql, table, id); len(got) != 0 {
			t.Fatalf("left %v", got)
		}
		if _, err := s.Restore(ctx, path, RestoreOptions{}); err != nil {
			t.Fatalf("restore: %v", err)
		}
		equalSnapshots(t, "after restore", before, snapshot(t, tg.sql, table, id))
	}
}

// hugeExcludeList: 70,000 --exclude-user names (more than the 65,535 bind parameters PostgreSQL
// and MySQL allow in one statement), with duplicates in any case: plan and purge keep exactly the
// excluded users' rows (PostgreSQL: on both delete paths; one is enough for the slower MariaDB,
// whose list is interpolated into each statement).
func hugeExcludeList(t *testing.T, tg target) {
	ctx := ctxT(t)
	table, id := tbl(tg)
	exclude := []string{"ALICE", "bob", "Alice", " BOB "}
	for i := 0; len(exclude) < 70000; i++ {
		exclude = append(exclude, fmt.Sprintf("departed-%05d", i%69000)) // and 1,000 duplicates
	}
	paths := []bool{false, true}
	if tg.name != "postgres" {
		paths = paths[:1]
	}
	for _, selectThenDelete := range paths {
		mustExec(t, tg.sql, "DROP TABLE IF EXISTS remembermetoken")
		mustExec(t, tg.sql, "DROP TABLE IF EXISTS app_user")
		setupJira(t, tg, 200)
		s := openStore(t, tg, "jira", Options{})
		s.noReturning = selectThenDelete
		t0 := time.Now()
		plan, err := s.Plan(ctx, PurgeOptions{ExcludeUsers: exclude})
		t.Logf("plan %s", time.Since(t0))
		if err != nil || plan.ToDelete != 120 || len(plan.Excluded) != 69002 {
			t.Fatalf("plan: to delete %d, %d excluded, %v", plan.ToDelete, len(plan.Excluded), err)
		}
		t0 = time.Now()
		res, err := s.Purge(ctx, PurgeOptions{ExcludeUsers: exclude, BatchSize: 50, BackupPath: filepath.Join(t.TempDir(), "b")})
		t.Logf("purge %s (%d batches)", time.Since(t0), res.Batches)
		if err != nil || res.Deleted != 120 || res.Kept != 80 {
			t.Fatalf("purge (select then delete %v): %+v %v", selectThenDelete, res, err)
		}
		for _, x := range ids(t, tg.sql, table, id) {
			if x%5 != 0 && x%5 != 1 {
				t.Fatalf("row %d of another user kept", x)
			}
		}
	}
}
