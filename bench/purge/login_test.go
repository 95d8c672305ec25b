package purge

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/reauth/reauth/internal/testenv"
)

// Bounds of one login loop: it stops when told, or at these, whichever comes first.
const (
	maxLogins     = 2000000
	maxLoginTime  = 15 * time.Minute
	loginTimeout  = 2 * time.Minute // one INSERT waiting longer than this is stuck, not slow
	firstLoginID  = 900000000       // far above every loaded id: logins never collide with them
	loginIDStride = 10000000        // each loop gets its own id range
)

// logins is a concurrent "login" loop: one token row per INSERT, autocommit, on its own
// connection, as fast as it goes, as a product does when users log in during a purge.
type logins struct {
	stop    chan struct{}
	done    chan struct{}
	started chan struct{} // closed after the first login committed: the loop is live
	lat     []time.Duration
	err     error
}

// startLogins opens its own connection and starts inserting; ids start at firstID.
func startLogins(ctx context.Context, driver, dsn, stmt string, firstID int64) (*logins, error) {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = db.PingContext(c)
	cancel()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("login loop: connect: %w", err)
	}
	l := &logins{stop: make(chan struct{}), done: make(chan struct{}), started: make(chan struct{})}
	go func() {
		defer close(l.done)
		defer db.Close()
		deadline := time.Now().Add(maxLoginTime)
		for i := int64(0); i < maxLogins && time.Now().Before(deadline); i++ {
			select {
			case <-l.stop:
				return
			default:
			}
			c, cancel := context.WithTimeout(ctx, loginTimeout)
			t0 := time.Now()
			_, err := db.ExecContext(c, stmt, firstID+i, fmt.Sprintf("%032x", firstID+i), fmt.Sprintf("user%d", i%10000))
			d := time.Since(t0)
			cancel()
			if err != nil {
				l.err = fmt.Errorf("login %d after %s: %w", i, d, err)
				return
			}
			l.lat = append(l.lat, d)
			if i == 0 {
				close(l.started)
			}
		}
	}()
	// Wait for the first login so that the loop is running when the measured step begins.
	select {
	case <-l.started:
		return l, nil
	case <-l.done:
		if l.err == nil {
			l.err = errors.New("login loop ended before its first login")
		}
		return nil, l.err
	case <-time.After(time.Minute):
		close(l.stop)
		<-l.done
		return nil, errors.New("login loop: first login took over a minute")
	}
}

// loginStats summarises the logins a loop made.
type loginStats struct {
	N        int
	P99, Max time.Duration
}

// finish stops the loop, waits for its INSERT in flight (bounded by loginTimeout), and returns
// the latencies' p99 and maximum.
func (l *logins) finish() (loginStats, error) {
	close(l.stop)
	select {
	case <-l.done:
	case <-time.After(loginTimeout + time.Minute):
		return loginStats{}, errors.New("login loop did not stop")
	}
	if l.err != nil {
		return loginStats{}, l.err
	}
	return stats(l.lat), nil
}

// stats is the nearest-rank p99 and the maximum of lat.
func stats(lat []time.Duration) loginStats {
	if len(lat) == 0 {
		return loginStats{}
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	rank := int(math.Ceil(0.99*float64(len(s)))) - 1
	return loginStats{N: len(s), P99: s[rank], Max: s[len(s)-1]}
}

// loginRunner runs a login loop around a step, each loop on ids of its own.
type loginRunner struct {
	ctx               context.Context
	driver, dsn, stmt string
	next              int64
}

func newLoginRunner(ctx context.Context, e engine, db *testenv.DB) (*loginRunner, error) {
	driver, dsn, err := e.loginDSN(db)
	return &loginRunner{ctx: ctx, driver: driver, dsn: dsn, stmt: e.login, next: firstLoginID}, err
}

// around starts the loop, runs step, and returns the loop's latencies.
func (lr *loginRunner) around(step func()) (loginStats, error) {
	l, err := startLogins(lr.ctx, lr.driver, lr.dsn, lr.stmt, lr.next)
	if err != nil {
		return loginStats{}, err
	}
	lr.next += loginIDStride
	step()
	return l.finish()
}

// loginLoop returns withLogins: it runs a step with the login loop around it, on its own
// connection, and returns the loop's latencies; an error ends the benchmark.
func loginLoop(ctx context.Context, b *testing.B, e engine, db *testenv.DB) func(step func()) loginStats {
	must := fatalOn(b)
	lr, err := newLoginRunner(ctx, e, db)
	must(err)
	return func(step func()) loginStats {
		b.Helper()
		st, err := lr.around(step)
		must(err)
		return st
	}
}
