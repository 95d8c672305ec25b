package sqlstore

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/backup"
)

// A database connection killed in the middle of a purge (pg_terminate_backend, MariaDB's KILL,
// from another session), also after a batch's rows were fsynced to the backup and before its
// delete committed (a crash between the two): the purge fails, the backup holds every row that
// was deleted, and a rerun with the same cut-off completes.
func TestConnectionKilledMidPurge(t *testing.T) {
	for _, e := range targets[:2] {
		for _, inside := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/inside batch %v", e.name, inside), func(t *testing.T) { connectionKilled(t, e.open(t), inside) })
		}
	}
}

func connectionKilled(t *testing.T, tg target, insideBatch bool) {
	setupJira(t, tg, 400)
	s := openStore(t, tg, "jira", Options{})
	ctx := ctxT(t)
	path := filepath.Join(t.TempDir(), "b")
	table, id := tbl(tg)
	var killed int64
	kill := func() {
		// Every reauth session on this database but the test's own: the purge's connection.
		if tg.name == "postgres" {
			if err := tg.sql.QueryRow("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() " +
				"AND application_name = 'reauth' AND pid <> pg_backend_pid()").Scan(&killed); err != nil {
				t.Error(err)
			}
			return
		}
		conn, err := tg.sql.Conn(ctx)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		rows, err := conn.QueryContext(ctx, "SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID()")
		if err != nil {
			t.Error(err)
			return
		}
		var pids []int64
		for rows.Next() {
			var pid int64
			if rows.Scan(&pid) == nil {
				pids = append(pids, pid)
			}
		}
		rows.Close()
		for _, pid := range pids {
			if _, err := conn.ExecContext(ctx, fmt.Sprintf("KILL CONNECTION %d", pid)); err == nil {
				killed++
			}
		}
	}
	batches := 0
	if insideBatch {
		// After the 4th batch's rows are fsynced, before its transaction commits.
		s.afterSync = func() {
			if batches++; batches == 4 {
				kill()
			}
		}
	}
	// One worker: the test counts batches exactly (two in flight: TestTwoBatchesInFlightKilled).
	res, err := s.Purge(ctx, PurgeOptions{BatchSize: 50, Workers: 1, BackupPath: path, Progress: func(p PurgeProgress) {
		if p.Batches == 3 && !insideBatch {
			kill()
		}
	}})
	if err == nil || killed == 0 {
		t.Fatalf("purge survived a killed connection (killed %d): %+v", killed, res)
	}
	if reauth.HintOf(err) == "" || res.Deleted != 150 {
		t.Fatalf("error %v, hint %q, result %+v", err, reauth.HintOf(err), res)
	}
	t.Logf("purge error: %v\n  hint: %s", err, reauth.HintOf(err))
	left := map[int64]bool{}
	for _, x := range ids(t, tg.sql, table, id) {
		left[x] = true
	}
	inBackup := map[int64]bool{}
	for _, x := range backupIDs(t, path) {
		inBackup[x] = true
	}
	for x := int64(1); x <= 400; x++ {
		if !left[x] && !inBackup[x] {
			t.Fatalf("row %d was deleted but is not in the backup", x)
		}
	}
	if _, err := backup.Verify(path); err != nil {
		t.Fatalf("backup after the failure: %v", err)
	}
	res2, err := s.Purge(ctx, PurgeOptions{CutoffID: res.CutoffID, BackupPath: path + ".2"})
	if err != nil || res2.Deleted != int64(len(left)) {
		t.Fatalf("rerun: %+v %v (left %d)", res2, err, len(left))
	}
	if n, _ := s.Remaining(ctx, res.CutoffID, PurgeOptions{}); n != 0 {
		t.Fatalf("%d rows remain", n)
	}
}

// Bitbucket stores a numeric user id; --user/--exclude-user match login names through
// stash_user (UNCONFIRMED shape, built from the catalog's facts).
func TestBitbucketUserIDs(t *testing.T) {
	tg := pgTarget(t)
	loadDump(t, tg, "UNKNOWN-REPO__bitbucket-pg_dump-9.5.3_EXCERPT_sta_remember_me_token.sql")
	ctx := ctxT(t)
	for i := 0; i < 40; i++ {
		mustExec(t, tg.sql, "INSERT INTO sta_remember_me_token VALUES ($1, $2, $3, $4, $5, false, NULL)",
			i+1, fmt.Sprint("s", i), fmt.Sprint("t", i), 1+i%4, seedBase.Add(time.Duration(i)*time.Hour))
	}
	// Without the user table, name filters are refused: nothing can be matched safely.
	s := openStore(t, tg, "bitbucket", Options{})
	if _, err := s.Plan(ctx, PurgeOptions{Users: []string{"alice"}}); reauth.CodeOf(err) != reauth.ExitRefused {
		t.Fatalf("--user without stash_user: %v", err)
	}
	mustExec(t, tg.sql, "CREATE TABLE stash_user (id integer PRIMARY KEY, name varchar(255))")
	mustExec(t, tg.sql, "INSERT INTO stash_user VALUES (1, 'alice'), (2, 'bob'), (3, 'carol'), (4, 'Dave')")
	s = openStore(t, tg, "bitbucket", Options{})
	in, err := s.Inspect(ctx, 4)
	if err != nil || in.Users != 4 || in.Top[0].Key == "" || in.Top[0].User == in.Top[0].Key || !in.TimeIsExpiry {
		t.Fatalf("inspect %+v %v", in, err)
	}
	res, err := s.Purge(ctx, PurgeOptions{ExcludeUsers: []string{"DAVE"}, BackupPath: filepath.Join(t.TempDir(), "b")})
	if err != nil || res.Deleted != 30 || res.Kept != 10 {
		t.Fatalf("exclude dave: %+v %v", res, err)
	}
	var other int
	tg.sql.QueryRow("SELECT COUNT(*) FROM sta_remember_me_token WHERE user_id <> 4").Scan(&other)
	if other != 0 {
		t.Fatalf("%d rows of other users left", other)
	}
}

// Bamboo's table is UNCONFIRMED: built here from the catalog's facts (Seraph's shape).
func TestBambooFromCatalog(t *testing.T) {
	tg := pgTarget(t)
	mustExec(t, tg.sql, "CREATE TABLE rememberme_token (id bigint PRIMARY KEY, created timestamp, token varchar(255), username varchar(255))")
	for i := 1; i <= 30; i++ {
		mustExec(t, tg.sql, "INSERT INTO rememberme_token VALUES ($1, $2, $3, $4)", i, seedBase.Add(time.Duration(i)*time.Second), fmt.Sprint("t", i), fmt.Sprint("u", i%3))
	}
	before := snapshot(t, tg.sql, "rememberme_token", "id")
	s := openStore(t, tg, "bamboo", Options{})
	ctx := ctxT(t)
	path := filepath.Join(t.TempDir(), "b")
	if res, err := s.Purge(ctx, PurgeOptions{BackupPath: path}); err != nil || res.Deleted != 30 {
		t.Fatalf("purge %+v %v", res, err)
	}
	if _, err := s.Restore(ctx, path, RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	equalSnapshots(t, "bamboo", before, snapshot(t, tg.sql, "rememberme_token", "id"))
	// A backup does not go into another product's table, nor into a table of another shape.
	mustExec(t, tg.sql, "ALTER TABLE rememberme_token ADD COLUMN extra int")
	s2 := openStore(t, tg, "bamboo", Options{})
	_, err := s2.Restore(ctx, path, RestoreOptions{})
	if reauth.CodeOf(err) != reauth.ExitRefused {
		t.Fatalf("restore into a changed table: %v", err)
	}
	t.Logf("changed table: %v", err)
	mustExec(t, tg.sql, "CREATE TABLE remembermetoken (id bigint PRIMARY KEY, created timestamp, token varchar(255), username varchar(255))")
	s3 := openStore(t, tg, "jira", Options{})
	if _, err := s3.Restore(ctx, path, RestoreOptions{}); reauth.CodeOf(err) != reauth.ExitRefused {
		t.Fatalf("restore a bamboo backup into jira: %v", err)
	}
}

// Bamboo's time column is UNCONFIRMED too: a table without it is purged all the same (inspect
// has no oldest/newest), and only --before, which needs it, is refused.
func TestBambooWithoutTimeColumn(t *testing.T) {
	tg := pgTarget(t)
	mustExec(t, tg.sql, "CREATE TABLE rememberme_token (id bigint PRIMARY KEY, token varchar(255), username varchar(255))")
	for i := 1; i <= 12; i++ {
		mustExec(t, tg.sql, "INSERT INTO rememberme_token VALUES ($1, $2, $3)", i, fmt.Sprint("t", i), fmt.Sprint("u", i%3))
	}
	s := openStore(t, tg, "bamboo", Options{})
	ctx := ctxT(t)
	in, err := s.Inspect(ctx, 5)
	if err != nil || in.Total != 12 || in.Oldest != nil || in.TimeColumn != "" {
		t.Fatalf("inspect: %+v %v", in, err)
	}
	before := time.Now()
	if _, err := s.Purge(ctx, PurgeOptions{BackupPath: filepath.Join(t.TempDir(), "x"), Before: &before}); reauth.CodeOf(err) != reauth.ExitRefused {
		t.Fatalf("--before without a time column: %v", err)
	}
	if res, err := s.Purge(ctx, PurgeOptions{BackupPath: filepath.Join(t.TempDir(), "b")}); err != nil || res.Deleted != 12 {
		t.Fatalf("purge %+v %v", res, err)
	}
}

// A backup whose trailer is missing (the purge crashed while writing it) is refused unless
// AcceptTruncated is given; then it is restored with a warning: every complete batch.
func TestRestoreWithoutTrailer(t *testing.T) {
	tg := sqliteTarget(t)
	setupJira(t, tg, 120)
	before := snapshot(t, tg.sql, "remembermetoken", "id")
	s := openStore(t, tg, "jira", Options{})
	ctx := ctxT(t)
	path := filepath.Join(t.TempDir(), "b")
	if _, err := s.Purge(ctx, PurgeOptions{BatchSize: 50, BackupPath: path}); err != nil {
		t.Fatal(err)
	}
	crashed := path + ".crashed"
	dropTrailer(t, path, crashed)
	if _, err := backup.Verify(crashed); err == nil {
		t.Fatal("a backup without trailer verified")
	}
	if _, err := s.Restore(ctx, crashed, RestoreOptions{}); reauth.CodeOf(err) != reauth.ExitRefused {
		t.Fatalf("restore of a file without trailer, no --accept-truncated: %v, want a refusal", err)
	}
	if n := len(snapshot(t, tg.sql, "remembermetoken", "id")); n != 0 {
		t.Fatalf("the refused restore wrote %d rows", n)
	}
	var warned string
	rr, err := s.Restore(ctx, crashed, RestoreOptions{AcceptTruncated: true, Warn: func(m string) { warned = m }})
	if err != nil || rr.Restored != 120 || !rr.Truncated || warned == "" {
		t.Fatalf("restore %+v %v warning %q", rr, err, warned)
	}
	equalSnapshots(t, "restored from a crashed backup", before, snapshot(t, tg.sql, "remembermetoken", "id"))
}

// dropTrailer writes src without its last line, as a writer that crashed before Close leaves it.
func dropTrailer(t *testing.T, src, dst string) {
	t.Helper()
	full, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	// The file is a sequence of gzip members, the trailer the last: keep every member before it.
	br := bytes.NewReader(full)
	var starts []int
	zr, err := gzip.NewReader(br)
	for err == nil {
		starts = append(starts, len(full)-br.Len()-10) // the header is read: 10 bytes, no extra fields
		zr.Multistream(false)
		if _, err = io.Copy(io.Discard, zr); err != nil {
			t.Fatal(err)
		}
		err = zr.Reset(br)
	}
	if err != io.EOF || len(starts) < 2 {
		t.Fatalf("members %v: %v", starts, err)
	}
	if err := os.WriteFile(dst, full[:starts[len(starts)-1]], 0o600); err != nil {
		t.Fatal(err)
	}
}
