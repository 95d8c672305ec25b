package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
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

// shortIdle sets a server idle timeout of secs seconds on a session, as a DBA's setting would.
func shortIdle(tg target, secs string) func(context.Context, *sql.Conn) error {
	set := map[string]string{"postgres": "SET idle_session_timeout = '" + secs + "s'", "mariadb": "SET SESSION wait_timeout = " + secs}[tg.name]
	return func(ctx context.Context, conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, set)
		return err
	}
}

// lockIdle: a lock session idle longer than the server's idle timeout is closed by the server,
// and the lock with it. With the default keep-alive (every 5 s) and a 1 s timeout on the lock's
// session, the keep-alive must follow the server's timeout, not its own default: for three
// times that timeout, no second run gets the lock.
func lockIdle(t *testing.T, tg target) {
	ctx := ctxT(t)
	setupJira(t, tg, 1)
	a := openStore(t, tg, "jira", Options{})
	b := openStore(t, tg, "jira", Options{})
	a.lockSession = shortIdle(tg, "1")
	release, err := a.Lock(ctx, "run")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	a.lock.mu.Lock() // rederive writes it under mu
	got := a.lock.every
	a.lock.mu.Unlock()
	if got > 250*time.Millisecond {
		t.Errorf("keep-alive every %s with a 1 s idle timeout, want at most 250ms", got)
	}
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if relB, err := b.Lock(ctx, "second run"); reauth.CodeOf(err) != reauth.ExitLocked {
			if err == nil {
				relB()
			}
			t.Fatalf("a second run got in while the first was idle: %v", err)
		}
	}
	if err := a.CheckLock(ctx); err != nil {
		t.Fatalf("after 3 s with a 1 s idle timeout: %v", err)
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

// keepAliveFor: a quarter of the server's idle timeout, never more than the default.
func TestKeepAliveFor(t *testing.T) {
	for _, tc := range []struct{ idle, want time.Duration }{
		{0, lockKeepAlive},
		{time.Second, 250 * time.Millisecond},
		{2 * time.Second, 500 * time.Millisecond},
		{20 * time.Second, lockKeepAlive},
		{8 * time.Hour, lockKeepAlive}, // MySQL's default wait_timeout
	} {
		if got := keepAliveFor(tc.idle, lockKeepAlive); got != tc.want {
			t.Errorf("keepAliveFor(%s) = %s, want %s", tc.idle, got, tc.want)
		}
	}
}

// An idle timeout too short to hold the lock against is refused, with the setting named and
// nothing locked.
func TestLockRefusesTinyIdleTimeout(t *testing.T) {
	tg := pgTarget(t)
	setupJira(t, tg, 1)
	a := openStore(t, tg, "jira", Options{})
	b := openStore(t, tg, "jira", Options{})
	a.lockSession = shortIdle(tg, "0.5")
	ctx := ctxT(t)
	_, err := a.Lock(ctx, "run")
	if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "idle_session_timeout") ||
		!strings.Contains(reauth.HintOf(err), "idle_session_timeout") {
		t.Fatalf("500ms idle timeout: %v (code %d, hint %q), want exit 4 naming idle_session_timeout", err, reauth.CodeOf(err), reauth.HintOf(err))
	}
	release, err := b.Lock(ctx, "second run")
	if err != nil {
		t.Fatalf("the refused lock was taken anyway: %v", err)
	}
	release()
}
