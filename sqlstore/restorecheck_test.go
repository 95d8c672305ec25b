package sqlstore

import (
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
