package sqlstore

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reauth/reauth"
)

// syncBuffer is a log sink the purge's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestExcludeTable: a Jira with 70,000 users in app_user (half stored in the token table by user
// key, JIRAUSER…, as Jira 8+ does for new users; half by name, some in mixed case) and an
// exclude list of 69,500 of them. The purge keeps its long list in a temporary table on each of
// its connections (checked in its log), deletes exactly the rows of the 500 users not excluded,
// and keeps every excluded user's row, on the real PostgreSQL and MariaDB.
func TestExcludeTable(t *testing.T) {
	for _, e := range targets[:2] {
		t.Run(e.name, func(t *testing.T) {
			tg := e.open(t)
			ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
			defer cancel()
			for _, s := range jiraDDL(tg) {
				mustExec(t, tg.sql, s)
			}
			const users, tokens = 70000, 20000
			// user i: key JIRAUSER<i> for even i, its own name for odd i.
			switch tg.name {
			case "postgres":
				mustExec(t, tg.sql, fmt.Sprintf("INSERT INTO app_user SELECT g, CASE WHEN g %% 2 = 0 THEN 'JIRAUSER' || g ELSE 'user' || lpad(g::text, 5, '0') END, "+
					"'user' || lpad(g::text, 5, '0') FROM generate_series(0, %d) g", users-1))
				mustExec(t, tg.sql, fmt.Sprintf("INSERT INTO remembermetoken SELECT g, timestamptz '2025-03-01 12:00:00+00', md5(g::text), "+
					"CASE WHEN g %% 1000 %% 2 = 0 THEN 'JIRAUSER' || (g %% 1000) WHEN g %% 3 = 0 THEN 'User' || lpad((g %% 1000)::text, 5, '0') "+
					"ELSE 'user' || lpad((g %% 1000)::text, 5, '0') END FROM generate_series(1, %d) g", tokens))
			default:
				mustExec(t, tg.sql, fmt.Sprintf("INSERT INTO app_user SELECT seq, IF(seq %% 2 = 0, CONCAT('JIRAUSER', seq), CONCAT('user', LPAD(seq, 5, '0'))), "+
					"CONCAT('user', LPAD(seq, 5, '0')) FROM seq_0_to_%d", users-1))
				mustExec(t, tg.sql, fmt.Sprintf("INSERT INTO remembermetoken SELECT seq, TIMESTAMP'2025-03-01 12:00:00', MD5(seq), "+
					"CASE WHEN seq %% 1000 %% 2 = 0 THEN CONCAT('JIRAUSER', seq %% 1000) WHEN seq %% 3 = 0 THEN CONCAT('User', LPAD(seq %% 1000, 5, '0')) "+
					"ELSE CONCAT('user', LPAD(seq %% 1000, 5, '0')) END FROM seq_1_to_%d", tokens))
			}
			var exclude []string
			for i := 500; i < users; i++ {
				name := fmt.Sprintf("user%05d", i)
				if i%7 == 0 {
					name = strings.ToUpper(name)
				}
				exclude = append(exclude, name)
			}
			var logs syncBuffer
			s := openStore(t, tg, "jira", Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			dir := t.TempDir()
			// With -v, the same purge with the list inline in every batch first (the way before),
			// stopped after 20 s and restored, for the log's comparison. PostgreSQL only: pgx
			// cancels the statement on the server, while MariaDB went on with an abandoned batch's
			// DELETE for over 25 minutes after its client had gone.
			if testing.Verbose() && tg.name == "postgres" {
				s.noNameTables = true
				t0 := time.Now()
				ictx, cancel := context.WithTimeout(ctx, 20*time.Second)
				res, err := s.Purge(ictx, PurgeOptions{ExcludeUsers: exclude, BackupPath: filepath.Join(dir, "inline"), SkipCounts: true})
				cancel()
				t.Logf("inline list: purge %s: %d batches, longest %.1f ms, %d deleted (%v)", time.Since(t0), res.Batches, res.MaxBatchMS, res.Deleted, reauth.CodeOf(err))
				if _, err := s.Restore(ctx, filepath.Join(dir, "inline"), RestoreOptions{}); err != nil {
					t.Fatal(err)
				}
				s.noNameTables = false
			}
			t0 := time.Now()
			path := filepath.Join(dir, "b")
			res, err := s.Purge(ctx, PurgeOptions{ExcludeUsers: exclude, BackupPath: path, SkipCounts: true})
			t.Logf("temporary table: purge %s: %d batches, longest %.1f ms", time.Since(t0), res.Batches, res.MaxBatchMS)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(logs.String(), "long user lists in temporary tables") {
				t.Fatalf("the exclude list was not put in a temporary table; log:\n%s", logs.String())
			}
			// Tokens of users 0..499 go (ids whose id % 1000 < 500), every other stays.
			want := int64(tokens / 2)
			if res.Deleted != want || res.Kept != tokens-want {
				t.Fatalf("deleted %d kept %d, want %d and %d", res.Deleted, res.Kept, want, tokens-want)
			}
			table, id := tbl(tg)
			for _, x := range ids(t, tg.sql, table, id) {
				if x%1000 < 500 {
					t.Fatalf("row %d of a user not excluded was kept", x)
				}
			}
			for _, x := range backupIDs(t, path) {
				if x%1000 >= 500 {
					t.Fatalf("row %d of an excluded user is in the backup", x)
				}
			}
			// A long --user list the same way: users 500..749 (by name in any case, or by key).
			var only []string
			for i := 500; i < 750; i++ {
				only = append(only, fmt.Sprintf("User%05d", i))
			}
			logs = syncBuffer{}
			res, err = s.Purge(ctx, PurgeOptions{Users: only, BackupPath: filepath.Join(dir, "users"), SkipCounts: true})
			if err != nil || res.Deleted != tokens/4 || !strings.Contains(logs.String(), "long user lists in temporary tables") {
				t.Fatalf("--user list of 250: deleted %d, want %d (%v); log:\n%s", res.Deleted, tokens/4, err, logs.String())
			}
			for _, x := range ids(t, tg.sql, table, id) {
				if x%1000 < 750 {
					t.Fatalf("row %d of a listed user was kept", x)
				}
			}
			// The temporary tables went with the purge: none is left on the pool's connections.
			var n int
			q := "SELECT COUNT(*) FROM pg_class WHERE relname IN ('reauth_exclude', 'reauth_users') AND relpersistence = 't'"
			if tg.name == "mariadb" {
				q = "SELECT COUNT(*) FROM information_schema.temporary_tables WHERE table_name IN ('reauth_exclude', 'reauth_users')"
			}
			if err := tg.sql.QueryRow(q).Scan(&n); err == nil && n != 0 {
				t.Fatalf("%d temporary name tables left", n)
			}
		})
	}
}
