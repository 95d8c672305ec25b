package sqlstore

// The run lock while it is held: its keep-alive, whose period follows the server's idle timeout
// of the lock's session, and the check that reports a lost lock.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/reauth/reauth"
)

// lockKeepAlive is how often at most a held lock's session is used and checked when nothing
// else uses it: cheap enough to go unnoticed. A server idle timeout shorter than four times it
// shortens it (keepAliveFor).
const lockKeepAlive = 5 * time.Second

// ErrLockLost is the cause of the error a run gets when its lock is gone.
var ErrLockLost = errors.New("the run lock was lost")

// runLock is the lock a Store holds: its session is kept alive and checked, and the first loss
// seen is kept so that every later check reports it.
type runLock struct {
	name  string
	held  heldLock
	conn  *sql.Conn // nil for SQLite's file lock
	mu    sync.Mutex
	lost  error
	stop  chan struct{}
	done  chan struct{}
	every time.Duration // the keep-alive period now
	// base is the period without an idle timeout; idle re-reads the server's (nil: none).
	base time.Duration
	idle func(context.Context) (time.Duration, string, error)
}

func (l *runLock) check(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost != nil {
		return l.lost
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ok, err := l.held.held(cctx)
	if err != nil && ctx.Err() != nil {
		return ctx.Err() // interrupted, not lost
	}
	if err != nil || !ok {
		why := "the database no longer counts reauth's session as its holder"
		if err != nil {
			why = "its database session died (" + err.Error() + ")"
		}
		l.lost = &reauth.Error{Code: reauth.ExitFailed, Op: "lock",
			Err: fmt.Errorf("%w: %s, so another run may have started; stopped at a safe point", ErrLockLost, why),
			Hint: "check that no other reauth run is working on this database (idle timeouts, a killed session " +
				"or a failover end the lock), then continue with --resume"}
	}
	return l.lost
}

func (l *runLock) keepAlive() {
	defer close(l.done)
	t := time.NewTimer(l.every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			if l.check(context.Background()) != nil {
				return
			}
			l.rederive()
			t.Reset(l.every)
		}
	}
}

// minLockIdle is the shortest server idle timeout reauth holds its run lock against: below it
// a keep-alive a quarter of it long would have to win against scheduling delays on a loaded
// machine, and the lock could be lost between two batches without anyone noticing in time.
const minLockIdle = time.Second

// keepAliveFor is the keep-alive period for a session the server closes after idle time idle
// (0: never): a quarter of it, so that the session is used three more times before the server
// would act even when a tick is late, and never more than base.
func keepAliveFor(idle, base time.Duration) time.Duration {
	if idle > 0 && idle/4 < base {
		return idle / 4
	}
	return base
}

// keepAliveBase is the keep-alive period without an idle timeout: lockKeepAlive, or the test's.
func (s *Store) keepAliveBase() time.Duration {
	if s.lockEvery > 0 {
		return s.lockEvery
	}
	return lockKeepAlive
}

// keepAlivePeriod reads the idle timeout of the lock's session conn and returns the keep-alive
// period for it, and the function that reads it again; a timeout under minLockIdle is refused
// (nothing is locked yet). A server that does not say keeps lockKeepAlive.
func (s *Store) keepAlivePeriod(ctx context.Context, conn *sql.Conn) (time.Duration, func(context.Context) (time.Duration, string, error), error) {
	q := s.dialect.locker().idleSQL()
	if conn == nil || q == "" {
		return s.keepAliveBase(), nil, nil
	}
	if s.lockSession != nil {
		if err := s.lockSession(ctx, conn); err != nil {
			return 0, nil, fmt.Errorf("lock: session hook: %w", err)
		}
	}
	read := func(ctx context.Context) (time.Duration, string, error) {
		var name string
		var ms int64
		err := conn.QueryRowContext(ctx, q).Scan(&name, &ms)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, "", nil
		}
		return time.Duration(ms) * time.Millisecond, name, err
	}
	idle, name, err := read(ctx)
	if err != nil {
		// Only the keep-alive's period depends on it: keep the default, say so.
		s.log.Warn("lock: could not read the server's idle timeout; keep-alive every "+s.keepAliveBase().String(), "error", err)
		return s.keepAliveBase(), nil, nil
	}
	if idle > 0 && idle < minLockIdle {
		return 0, nil, &reauth.Error{Code: reauth.ExitRefused, Op: "lock " + s.db.String(),
			Err: fmt.Errorf("the server ends reauth's session after %s idle (%s): the run lock cannot be kept reliably", idle, name),
			Hint: fmt.Sprintf("raise %s to at least %s for the user reauth connects as (for example per role or database), then run again",
				name, minLockIdle)}
	}
	return keepAliveFor(idle, s.keepAliveBase()), read, nil
}

// rederive reads the server's idle timeout again (a DBA may change it while the run holds the
// lock) and adapts the keep-alive period; on an error the period stays as it was.
func (l *runLock) rederive() {
	if l.idle == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if idle, _, err := l.idle(ctx); err == nil {
		l.every = keepAliveFor(idle, l.base)
	}
}
