package sqlstore

import (
	"io"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/reauth/reauth/backup"
)

// pgTricky inserts rows whose text forms are the edge cases of the text path: quotes,
// backslashes, control characters and non-ASCII in text, NULLs, fractional and extreme times.
const pgTricky = `INSERT INTO remembermetoken VALUES
	(1001, '2025-03-01 12:00:00.123456+00', E'quote" back\\ tab\t nl\n ctl\x01 ünï 🔑', 'bob'),
	(1002, NULL, NULL, NULL),
	(1003, '9999-12-31 23:59:59.999999+00', '', 'Admin'),
	(1004, '1970-01-01 00:00:00+00', 'x', 'carol'),
	(1005, '2024-02-29 23:59:59.5+05:30', 'offset', 'dave')`

// readBackup returns a backup's manifest and rows, decoded.
func readBackup(t *testing.T, path string) (backup.Manifest, [][]any) {
	t.Helper()
	r, err := backup.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var rows [][]any
	for {
		v, err := r.Next()
		if err == io.EOF {
			return r.Manifest(), rows
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, v)
	}
}

// The PostgreSQL text path writes a backup that decodes to exactly the values the generic
// database/sql path writes for the same rows, and it is the path a purge takes.
func TestPGTextPathMatchesGeneric(t *testing.T) {
	textMatchesGeneric(t, pgTricky, true)
}

// pgInfinite are times the text path refuses (infinity, -infinity, BC, a year past 9999), after
// 300 ordinary rows: the purge starts on the text path, meets them, rolls that batch back and
// goes on the generic way, which reads them from the bytes it already has (a second Scan of the
// row failed with "Scan called without calling Next").
const pgInfinite = `INSERT INTO remembermetoken VALUES
	(1001, 'infinity', 'inf', 'bob'),
	(1002, '-infinity', 'minf', 'bob'),
	(1003, '0044-03-15 10:00:00.5+00 BC', 'bc', 'carol'),
	(1004, '4713-01-01 00:00:00+00 BC', 'first', 'carol'),
	(1005, '294276-12-31 23:59:59.999999+00', 'last', 'dave'),
	(1006, '2025-03-01 12:00:00+00', 'after', 'dave')`

func TestPGTextPathInfiniteTimes(t *testing.T) {
	textMatchesGeneric(t, pgInfinite, false)
}

// textMatchesGeneric purges the Jira table plus extra rows twice, on the text path and on the
// generic one, restoring in between: both backups hold the same values and both restores give
// the table back row for row. allText: every batch took the text path.
func textMatchesGeneric(t *testing.T, extra string, allText bool) {
	ctx := ctxT(t)
	tg := pgTarget(t)
	setupJira(t, tg, 300)
	mustExec(t, tg.sql, extra)
	before := snapshot(t, tg.sql, "remembermetoken", "id")
	dir := t.TempDir()
	var got [2][][]any
	for i, generic := range []bool{false, true} {
		s := openStore(t, tg, "jira", Options{})
		s.noPGText = generic
		path := filepath.Join(dir, []string{"text", "generic"}[i])
		res, err := s.Purge(ctx, PurgeOptions{BatchSize: 64, BackupPath: path})
		if err != nil || res.Deleted != int64(len(before)) {
			t.Fatalf("purge (generic %v): %+v %v", generic, res, err)
		}
		if n := s.pgTextBatches.Load(); (n > 0) == generic || (!generic && allText != (n == int64(res.Batches))) {
			t.Fatalf("generic %v: %d of %d batches took the text path", generic, n, res.Batches)
		}
		_, got[i] = readBackup(t, path)
		if _, err := s.Restore(ctx, path, RestoreOptions{}); err != nil {
			t.Fatal(err)
		}
		equalSnapshots(t, "after restore", before, snapshot(t, tg.sql, "remembermetoken", "id"))
	}
	if len(got[0]) != len(got[1]) {
		t.Fatalf("text path backed up %d rows, generic %d", len(got[0]), len(got[1]))
	}
	byID := map[int64][]any{}
	for _, r := range got[1] {
		byID[r[0].(int64)] = r
	}
	for _, r := range got[0] {
		want := byID[r[0].(int64)]
		for c := range r {
			a, aok := r[c].(time.Time)
			b, bok := want[c].(time.Time)
			if aok && bok {
				if !a.Equal(b) {
					t.Fatalf("id %v column %d: text path %v, generic %v", r[0], c, a, b)
				}
				continue
			}
			if !reflect.DeepEqual(r[c], want[c]) {
				t.Fatalf("id %v column %d: text path %#v, generic %#v", r[0], c, r[c], want[c])
			}
		}
	}
}

// A value the text path does not convert (a date column's "2025-03-01") rolls that batch back
// and the purge goes on the generic way: the text path is off from then on, and nothing is lost
// or deleted twice.
func TestPGTextPathFallsBack(t *testing.T) {
	ctx := ctxT(t)
	tg := pgTarget(t)
	mustExec(t, tg.sql, "CREATE TABLE remembermetoken (id numeric(18,0) NOT NULL PRIMARY KEY, created date, token varchar(255), username varchar(255))")
	mustExec(t, tg.sql, "INSERT INTO remembermetoken SELECT g, date '2025-03-01' + g, md5(g::text), 'user' || (g % 7) FROM generate_series(1, 300) g")
	before := snapshot(t, tg.sql, "remembermetoken", "id")
	s := openStore(t, tg, "jira", Options{})
	path := filepath.Join(t.TempDir(), "b")
	res, err := s.Purge(ctx, PurgeOptions{BatchSize: 64, BackupPath: path})
	if err != nil || res.Deleted != 300 {
		t.Fatalf("%+v %v", res, err)
	}
	if n := s.pgTextBatches.Load(); n != 0 {
		t.Fatalf("%d batches took the text path for a date column", n)
	}
	if _, rows := readBackup(t, path); len(rows) != 300 {
		t.Fatalf("backup holds %d rows, want 300", len(rows))
	}
	if _, err := s.Restore(ctx, path, RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	equalSnapshots(t, "after restore", before, snapshot(t, tg.sql, "remembermetoken", "id"))
}
