package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/reauth/reauth"
)

// The lock conformance runs on the real servers: the failures it guards against (a second run
// let in) only show with a real lock manager.
func TestRunLock(t *testing.T) {
	for _, e := range targets {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			if e.name != "sqlite" {
				t.Run("session killed", func(t *testing.T) { lockKilled(t, e.open(t)) })
				t.Run("idle timeout", func(t *testing.T) { lockIdle(t, e.open(t)) })
			}
			t.Run("file removed", func(t *testing.T) {
				if e.name != "sqlite" {
					t.Skip("the file lock is SQLite's")
				}
				lockFileRemoved(t, e.open(t))
			})
		})
	}
}

// TestLockNamedAfterServer: jdbc:mysql and jdbc:mariadb to one MariaDB database are one lock.
func TestLockNamedAfterServer(t *testing.T) {
	tg := mariaTarget(t)
	setupJira(t, tg, 1)
	asMySQL := tg
	asMySQL.db.Engine = reauth.MySQL
	a := openStore(t, tg, "jira", Options{})
	b := openStore(t, asMySQL, "jira", Options{})
	ctx := ctxT(t)
	release, err := a.Lock(ctx, "run")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if _, err := b.Lock(ctx, "run"); reauth.CodeOf(err) != reauth.ExitLocked {
		t.Fatalf("jdbc:mysql spelling of the same database: %v (code %d), want exit 5", err, reauth.CodeOf(err))
	}
}

// killLockSession ends the database session that holds s's lock, as a DBA or a failover would.
func killLockSession(t *testing.T, tg target, s *Store) {
	t.Helper()
	switch tg.name {
	case "postgres":
		mustExec(t, tg.sql, "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted "+
			"AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
	case "mariadb":
		var id int64
		if err := tg.sql.QueryRow("SELECT IS_USED_LOCK(?)", s.lock.name).Scan(&id); err != nil || id == 0 {
			t.Fatalf("lock holder of %s: %d %v", s.lock.name, id, err)
		}
		mustExec(t, tg.sql, fmt.Sprintf("KILL %d", id))
	}
}

func lockKilled(t *testing.T, tg target) {
	ctx := ctxT(t)
	setupJira(t, tg, 300)
	before := snapshot(t, tg.sql, "remembermetoken", "id")
	a := openStore(t, tg, "jira", Options{})
	b := openStore(t, tg, "jira", Options{})
	a.lockEvery = time.Hour // only the checks the purge makes
	release, err := a.Lock(ctx, "run")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if err := a.CheckLock(ctx); err != nil {
		t.Fatalf("fresh lock: %v", err)
	}
	killLockSession(t, tg, a)
	// The session is gone, and with it the lock: a second run can take it now...
	deadline := time.Now().Add(10 * time.Second)
	for {
		relB, err := b.Lock(ctx, "second run")
		if err == nil {
			relB()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the lock did not go with its session: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// ...so the first run must see it and stop before its first batch.
	err = a.CheckLock(ctx)
	if !errors.Is(err, ErrLockLost) {
		t.Fatalf("CheckLock after the session died: %v, want ErrLockLost", err)
	}
	t.Logf("lost: %v (hint: %s)", err, reauth.HintOf(err))
	res, err := a.Purge(ctx, PurgeOptions{BackupPath: t.TempDir() + "/b.jsonl.gz", BatchSize: 50})
	if !errors.Is(err, ErrLockLost) || res.Deleted != 0 {
		t.Fatalf("purge after the lock was lost: deleted %d, %v; want 0 and ErrLockLost", res.Deleted, err)
	}
	if got := snapshot(t, tg.sql, "remembermetoken", "id"); len(got) != len(before) {
		t.Fatalf("rows changed after the lock was lost: %d, want %d", len(got), len(before))
	}
	if err := release(); err != nil {
		t.Fatalf("release of a lost lock: %v", err)
	}
}

// lockIdle: a lock session idle longer than the server's idle timeout is closed by the server,
// and the lock with it; the keep-alive must stop that from happening.
func lockIdle(t *testing.T, tg target) {
	ctx := ctxT(t)
	setupJira(t, tg, 1)
	a := openStore(t, tg, "jira", Options{})
	b := openStore(t, tg, "jira", Options{})
	a.lockEvery = 200 * time.Millisecond
	release, err := a.Lock(ctx, "run")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	set := map[string]string{"postgres": "SET idle_session_timeout = '1s'", "mariadb": "SET SESSION wait_timeout = 1"}[tg.name]
	a.lock.mu.Lock()
	_, err = a.lock.conn.ExecContext(ctx, set)
	a.lock.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // idle, from the server's point of view, three times its timeout
	if err := a.CheckLock(ctx); err != nil {
		t.Fatalf("after 3 s with a 1 s idle timeout: %v", err)
	}
	if _, err := b.Lock(ctx, "second run"); reauth.CodeOf(err) != reauth.ExitLocked {
		t.Fatalf("a second run got in while the first was idle: %v", err)
	}
}

func lockFileRemoved(t *testing.T, tg target) {
	ctx := context.Background()
	setupJira(t, tg, 1)
	a := openStore(t, tg, "jira", Options{})
	release, err := a.Lock(ctx, "run")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if err := os.Remove(a.lock.name); err != nil {
		t.Fatal(err)
	}
	if err := a.CheckLock(ctx); !errors.Is(err, ErrLockLost) {
		t.Fatalf("lock file removed: %v, want ErrLockLost", err)
	}
}
