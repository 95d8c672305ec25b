package sqlstore

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/backup"
)

// An attacker who can write a backup adds a row (a token of their choosing for a user) and
// rewrites the checksum. Restore refuses any row the purge could not have deleted, before
// writing anything.
func TestRestoreRefusesForgedRows(t *testing.T) {
	for _, e := range targets {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			tg := e.open(t)
			ctx := ctxT(t)
			setupJira(t, tg, 60)
			table, id := tbl(tg)
			s := openStore(t, tg, "jira", Options{})
			dir := t.TempDir()
			before := seedBase.Add(50 * time.Minute)
			path := filepath.Join(dir, "b")
			res, err := s.Purge(ctx, PurgeOptions{Users: []string{"alice", "bob"}, Before: &before, BackupPath: path})
			if err != nil || res.Deleted == 0 {
				t.Fatalf("purge %+v %v", res, err)
			}
			purged := snapshot(t, tg.sql, table, id)
			m, rows := readForged(t, path)
			row := func(id int64, created any, user string) []any {
				out := make([]any, len(m.Columns))
				for i, c := range m.Columns {
					switch strings.ToLower(c.Name) {
					case "id":
						out[i] = id
					case "created":
						out[i] = created
					case "token":
						out[i] = "forged-token-value"
					case "username":
						out[i] = user
					}
				}
				return out
			}
			early := seedBase.Add(time.Minute)
			excl := m
			excl.Filters = backup.Filters{ExcludeUsers: []string{"carol"}}
			cases := []struct {
				name  string
				m     backup.Manifest
				extra []any
			}{
				{"id above the cut-off", m, row(res.CutoffID+1, early, "bob")},
				{"user not in --user", m, row(0, early, "carol")},
				{"excluded user", excl, row(0, early, "carol")},
				{"not before --before", m, row(0, before.Add(time.Minute), "bob")},
				{"no time with --before", m, row(0, nil, "bob")},
				{"dated infinity with --before", m, row(0, "infinity", "bob")},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
					w, err := backup.Create(p, tc.m)
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range append(append([][]any{}, rows...), tc.extra) {
						if err := w.Append(r); err != nil {
							t.Fatal(err)
						}
					}
					if _, err := w.Close(); err != nil {
						t.Fatal(err)
					}
					_, err = s.Restore(ctx, p, RestoreOptions{})
					if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "could not have deleted") {
						t.Fatalf("restore of a forged backup: %v (code %d), want a refusal", err, reauth.CodeOf(err))
					}
					if strings.Contains(err.Error(), "forged-token-value") {
						t.Fatal("the error shows a token value")
					}
					equalSnapshots(t, "after a refused restore", purged, snapshot(t, tg.sql, table, id))
				})
			}
			// The real backup (alice's rows stored by user key) still restores.
			if rr, err := s.Restore(ctx, path, RestoreOptions{}); err != nil || rr.Restored != res.Deleted {
				t.Fatalf("restore of the real backup: %+v %v", rr, err)
			}
		})
	}
}

func readForged(t *testing.T, path string) (backup.Manifest, [][]any) {
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

// A purge --before on a table holding the engine's edge times (PostgreSQL's -infinity and BC
// dates, MariaDB's zero date) deletes those the SQL judged before the cut-off time; restore must
// judge the backed-up values the same way and put every row back, not call them forged. A row
// dated infinity, never before anything, stays in the table and out of the backup.
func TestRestoreEdgeTimesBefore(t *testing.T) {
	for _, e := range targets {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			tg := e.open(t)
			ctx := ctxT(t)
			setupJira(t, tg, 20)
			var vals []string
			switch tg.name {
			case "postgres":
				vals = []string{"-infinity", "infinity", "0044-03-15 10:00:00+00 BC", "0001-01-01 00:00:00+00", "294276-12-31 23:59:59+00"}
			case "mariadb":
				vals = []string{"0000-00-00 00:00:00", "1000-01-01 00:00:00", "9999-12-31 23:59:59"}
			default:
				vals = []string{"0001-01-01 00:00:00", "9999-12-31 23:59:59"}
			}
			p := tg.d.Placeholder
			for i, v := range vals {
				mustExec(t, tg.sql, fmt.Sprintf("INSERT INTO remembermetoken VALUES (%s, %s, %s, %s)", p(1), p(2), p(3), p(4)), 1000+i, v, fmt.Sprintf("x%d", i), "bob")
			}
			table, id := tbl(tg)
			before := snapshot(t, tg.sql, table, id)
			s := openStore(t, tg, "jira", Options{})
			cut := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			path := filepath.Join(t.TempDir(), "b")
			res, err := s.Purge(ctx, PurgeOptions{Before: &cut, BatchSize: 8, BackupPath: path})
			if err != nil || res.Deleted == 0 {
				t.Fatalf("purge --before: %+v %v", res, err)
			}
			if _, _, err := s.CheckBackup(ctx, path, nil, ""); err != nil {
				t.Fatalf("restore --dry-run's check of the genuine backup: %v", err)
			}
			rr, err := s.Restore(ctx, path, RestoreOptions{})
			if err != nil || rr.Restored != res.Deleted {
				t.Fatalf("restore of the genuine backup: %+v %v (purge deleted %d)", rr, err, res.Deleted)
			}
			equalSnapshots(t, "after restore", before, snapshot(t, tg.sql, table, id))
		})
	}
}

// A backup whose rows do not give the digest the audit log records for it is refused before
// anything is written, whatever else checks (a clear file rewritten whole, trailer and all, passes
// every check of its own); the recorded digest restores.
func TestRestoreRefusesADigestOtherThanRecorded(t *testing.T) {
	tg := sqliteTarget(t)
	ctx := ctxT(t)
	setupJira(t, tg, 30)
	table, id := tbl(tg)
	s := openStore(t, tg, "jira", Options{})
	path := filepath.Join(t.TempDir(), "b")
	res, err := s.Purge(ctx, PurgeOptions{BackupPath: path})
	if err != nil || res.Deleted == 0 {
		t.Fatalf("purge %+v %v", res, err)
	}
	purged := snapshot(t, tg.sql, table, id)
	other := strings.Repeat("0", 64)
	if _, _, err := s.CheckBackup(ctx, path, nil, other); reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "the audit log records "+other) {
		t.Fatalf("check against another digest: %v", err)
	}
	if _, err := s.Restore(ctx, path, RestoreOptions{SHA256: other}); reauth.CodeOf(err) != reauth.ExitRefused {
		t.Fatalf("restore against another digest: %v, want a refusal", err)
	}
	equalSnapshots(t, "after a refused restore", purged, snapshot(t, tg.sql, table, id))
	if rr, err := s.Restore(ctx, path, RestoreOptions{SHA256: strings.ToUpper(res.SHA256)}); err != nil || rr.Restored != res.Deleted {
		t.Fatalf("restore with the recorded digest: %+v %v", rr, err)
	}
}
