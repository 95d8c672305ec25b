package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/backup"
)

// DefaultWorkers is how many batches a purge runs at once, each on its own connection. Two is
// enough to hide the backup's fsync and the database round trips behind each other (profiling
// showed a sequential purge's client busy about a third of the time); more only adds contention
// on the table and the writer.
const DefaultWorkers = 2

// innoDBWorkers is the default on MySQL and MariaDB, whose batches are shorter (caps.go).
const innoDBWorkers = 3

// maxWorkers bounds --workers-style options: every worker holds a connection and row locks.
const maxWorkers = 8

// MaxRest bounds PurgeOptions.Rest (reauth.MaxPurgeRest).
const MaxRest = reauth.MaxPurgeRest

// CheckRest refuses a rest ratio outside 0..MaxRest.
func CheckRest(r float64) error {
	if math.IsNaN(r) || r < 0 || r > MaxRest {
		return reauth.Usage(fmt.Sprintf("give a rest between 0 (none) and %d, e.g. 1 to halve the database's share", MaxRest),
			"rest %v: out of range", r)
	}
	return nil
}

// restAfter is the rest after a batch that took took: r times as long, at most
// reauth.MaxPurgeRestTime.
func (s *Store) restAfter(took time.Duration, r float64) time.Duration {
	d := min(time.Duration(float64(took)*r), reauth.MaxPurgeRestTime)
	if s.restFor != nil {
		d = s.restFor(d)
	}
	return d
}

// workers is how many batches run at once on this store's database.
func (s *Store) workers(o PurgeOptions) int {
	c := s.dialect.caps()
	if c.oneWriter {
		return 1 // a second transaction would only wait (or fail busy)
	}
	if o.Workers <= 0 {
		if o.Rest > 0 {
			// A purge that rests is there to leave the database to its users: one batch at a
			// time, so that a login meets at most one batch's work (bench/README, "rest").
			return 1
		}
		if n := c.workers; n > 0 {
			return n
		}
		return DefaultWorkers
	}
	return min(o.Workers, maxWorkers)
}

type batchResult struct {
	n   int
	ms  float64
	err error
	ack chan struct{} // closed once reported: Ctrl-C seen in Progress stops this worker's next batch
}

// pipeline runs the purge's batches: each worker takes the next disjoint id window, deletes
// its rows in a transaction, hands them to the one backup writer (which group-commits: one
// fsync for every batch waiting), and commits only once its rows are durable. report is called
// on the caller's goroutine after every committed window. interrupted: o.Stop fired and the
// workers stopped after the batches they had in flight.
func (s *Store) pipeline(ctx context.Context, o PurgeOptions, cutoff int64, w *backup.Writer, report func(n int, ms float64)) (interrupted bool, err error) {
	k := s.workers(o)
	conns := make([]*sql.Conn, 0, k)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range k {
		c, err := s.sql.Conn(ctx)
		if err != nil {
			return false, fmt.Errorf("purge: connect: %w", err)
		}
		conns = append(conns, c)
		if sd, ok := s.dialect.(sessionTuner); ok {
			set, reset := sd.PurgeSession()
			if _, err := c.ExecContext(ctx, set); err != nil {
				s.log.Warn("purge session setting refused", "sql", set, "err", err)
			} else {
				defer c.ExecContext(context.WithoutCancel(ctx), reset)
			}
		}
	}
	o, dropTables := s.userTables(ctx, conns, o)
	defer dropTables()
	g := backup.NewGroup(w, s.beforeSync)
	z := newBatchSizer(o, s.BatchTarget())
	var slots deleteSlots
	if n := s.dialect.caps().deleteSlots; n > 0 && n < k {
		slots = make(deleteSlots, n)
	}
	wd := newWindower(s, o, z, cutoff)
	results := make(chan batchResult)
	var stopped atomic.Bool // Stop fired (or ctx was cancelled) while there was work left
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A batch is not cancelled by the first Ctrl-C (Stop): it finishes, so the backup and
			// the table agree. Only ctx (the second) abandons it.
			bctx := ctx
			// A rest after a batch ends at the first Ctrl-C too: the next batch is not started.
			restCtx, endRests := o.Stop.Context(ctx)
			defer endRests()
			b := newBatcher(s, c, g, w, o, z)
			b.slots = slots
			for {
				if o.Stop.Stopping() || ctx.Err() != nil {
					stopped.Store(true)
					wd.finish()
					return
				}
				// A lost run lock stops the purge before its next batch: another run may be
				// working on the table now.
				if err := s.CheckLock(bctx); err != nil {
					results <- batchResult{err: err}
					return
				}
				began := time.Now()
				pctx, cancel := context.WithTimeout(bctx, batchTimeout)
				win, ok, err := wd.next(pctx, c)
				cancel()
				if err != nil {
					results <- batchResult{err: err}
					return
				}
				if !ok {
					return
				}
				n, ms, err := b.run(bctx, win)
				if err == nil {
					wd.observe(win, n)
				}
				ack := make(chan struct{})
				results <- batchResult{n: n, ms: ms, err: err, ack: ack}
				<-ack
				if err != nil {
					return
				}
				if o.Rest > 0 {
					_ = reauth.Sleep(restCtx, s.restAfter(time.Since(began), o.Rest))
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	var first error
	for r := range results {
		if r.n > 0 {
			report(r.n, r.ms)
		}
		if r.err != nil && first == nil {
			// The first error stops the pipeline: no new windows; batches in flight finish
			// (commit if their rows are durable, roll back on a writer error).
			first = r.err
			wd.finish()
		}
		if r.ack != nil {
			close(r.ack)
		}
	}
	g.Stop()
	if syncs, batches := g.Stats(); syncs > 0 {
		s.log.Debug("purge backup writes", "fsyncs", syncs, "batches", batches, "workers", k)
	}
	return stopped.Load() && first == nil, first
}
