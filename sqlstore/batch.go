package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/reauth/reauth/backup"
)

// maxWindowFactor caps how wide (in ids, as a multiple of the batch size) one id window may be
// probed when ids are sparse or the filters match few rows.
const maxWindowFactor = 1024

// idWindow is a batch's scope: rows in scope with lo < id <= hi, at most n of them per batch
// (the batch size when the window was handed out).
type idWindow struct {
	lo, hi int64
	n      int
}

// windower hands out DISJOINT id windows to the purge's workers, so that batches can run on
// several connections at once without ever touching the same row.
//
// Each window comes from a cheap probe that reads at most one batch of ids from the id index:
// the MAX and COUNT of the first n ids in scope after lo, within a bounded id range. The range
// bound matters: on a table the planner has no statistics for (just bulk-loaded, or grown since
// the last ANALYZE), PostgreSQL estimates a handful of rows and may sort every remaining row;
// bounding the probe's range to about twice the id span of the last full batch bounds what any
// plan can touch. Gaps are skipped with an index MIN(id) lookup. Rows issued after the cut-off
// are never in scope, so a window computed ahead stays valid while other batches run.
type windower struct {
	s       *Store
	o       PurgeOptions
	z       *batchSizer
	cutoff  int64
	mu      sync.Mutex
	lo      int64 // every row in scope with id <= lo is in a window already handed out
	width   int64 // current probe range in ids
	started bool
	done    bool
	// limited: each batch statement has its own LIMIT (MySQL/MariaDB, and every SELECT … FOR
	// UPDATE path), so a window holding more than a batch only takes another pass (batcher.run)
	// and windows need not be probed: after the first probe, a window is span ids wide, span
	// following the rows the last windows actually held (observe). A probe cost MariaDB a
	// materialized subquery per batch, as much as a sixth of a purge.
	limited bool
	span    int64
	gap     bool // the last window held no row: skip to the next id before the next window
}

func newWindower(s *Store, o PurgeOptions, z *batchSizer, cutoff int64) *windower {
	_, _, ranged := s.windowReturningSQL(0, 0, o, 1)
	limited := !(ranged && !s.noReturning)
	return &windower{s: s, o: o, z: z, cutoff: cutoff, lo: math.MinInt64, width: 2 * int64(z.size()), limited: limited}
}

// observe adjusts the window span (limited windowers) to what a finished window held: about a
// batch per window, growing at most twice per window, and a skip past an empty one.
func (wd *windower) observe(win idWindow, rows int) {
	if !wd.limited {
		return
	}
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if wd.span == 0 {
		return
	}
	n := int64(wd.z.size())
	maxWidth := n * maxWindowFactor
	width := max(win.hi-win.lo, 1)
	if rows == 0 {
		wd.gap = true
		wd.span = min(satAdd(wd.span, wd.span), maxWidth)
		return
	}
	want := int64(math.Min(float64(width)/float64(rows)*float64(n), float64(maxWidth))) // ids per row, times the next batch size
	wd.span = min(max(want, 1), satAdd(wd.span, wd.span), maxWidth)
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// finish stops handing out windows (an error elsewhere, or Ctrl-C).
func (wd *windower) finish() {
	wd.mu.Lock()
	wd.done = true
	wd.mu.Unlock()
}

// next returns the next window, probed on conn (outside any transaction); ok false: no more.
func (wd *windower) next(ctx context.Context, conn *sql.Conn) (idWindow, bool, error) {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	n := int64(wd.z.size())
	maxWidth := n * maxWindowFactor
	for !wd.done {
		if wd.limited && wd.span > 0 {
			if wd.gap {
				if ok, err := wd.seek(ctx, conn); !ok {
					return idWindow{}, false, err
				}
				wd.gap = false
			}
			if wd.lo >= wd.cutoff {
				break
			}
			w := idWindow{wd.lo, min(satAdd(wd.lo, wd.span), wd.cutoff), int(n)}
			wd.lo = w.hi
			return w, true, nil
		}
		if !wd.started {
			if ok, err := wd.seek(ctx, conn); !ok {
				return idWindow{}, false, err
			}
			wd.started = true
		}
		if wd.lo >= wd.cutoff {
			break
		}
		lim := min(satAdd(wd.lo, wd.width), wd.cutoff)
		hi, cnt, err := wd.probe(ctx, conn, lim, int(n))
		if err != nil {
			wd.done = true
			return idWindow{}, false, err
		}
		switch {
		case cnt >= n: // a full batch ends at its n-th id; the next probe spans about two of these
			w := idWindow{wd.lo, hi, int(n)}
			wd.width = min(max(2*(hi-wd.lo), 2*n), maxWidth)
			if wd.limited {
				wd.span = max(hi-wd.lo, 1)
			}
			wd.lo = hi
			return w, true, nil
		case cnt > 0: // the range holds less than a batch: it is the window, and the next is wider
			w := idWindow{wd.lo, lim, int(n)}
			wd.width = min(wd.width*2, maxWidth)
			wd.lo = lim
			return w, true, nil
		}
		// Nothing in scope up to lim: skip to the next id, and widen.
		wd.width = min(wd.width*2, maxWidth)
		next, ok, err := wd.nextID(ctx, conn, lim)
		if err != nil || !ok {
			wd.done = true
			return idWindow{}, false, err
		}
		wd.lo = next - 1
	}
	wd.done = true
	return idWindow{}, false, nil
}

// seek moves lo to just below the next id in scope after it; false (and done) when there is none.
func (wd *windower) seek(ctx context.Context, conn *sql.Conn) (bool, error) {
	next, ok, err := wd.nextID(ctx, conn, wd.lo)
	if err != nil || !ok {
		wd.done = true
		return false, err
	}
	wd.lo = next - 1
	return true, nil
}

// probe returns the highest id and the count of the first batch of rows in scope with
// lo < id <= lim: the index-ordered LIMIT reads at most one batch of index entries.
func (wd *windower) probe(ctx context.Context, conn *sql.Conn, lim int64, n int) (int64, int64, error) {
	s := wd.s
	q := &query{d: s.dialect}
	cond := and(s.qID+" > "+q.arg(wd.lo), s.scope(q, lim, wd.o))
	inner := s.dialect.SelectTop(s.qID, s.info.Qualified, cond, "", s.qID, n)
	var hi, cnt any
	if err := conn.QueryRowContext(ctx, "SELECT MAX("+s.qID+"), COUNT(*) FROM ("+inner+") w", q.args...).Scan(&hi, &cnt); err != nil {
		return 0, 0, fmt.Errorf("find the next batch of %s: %w", s.info.Qualified, err)
	}
	c, _, err := toInt(cnt)
	if err != nil || c == 0 {
		return 0, 0, err
	}
	h, _, err := toInt(hi)
	return h, c, err
}

// nextID is the smallest id above after and up to the cut-off (ok false: none).
func (wd *windower) nextID(ctx context.Context, conn *sql.Conn, after int64) (int64, bool, error) {
	s := wd.s
	q := &query{d: s.dialect}
	text := "SELECT MIN(" + s.qID + ") FROM " + s.info.Qualified + " WHERE " + s.qID + " > " + q.arg(after) + " AND " + s.qID + " <= " + q.arg(wd.cutoff)
	var v any
	if err := conn.QueryRowContext(ctx, text, q.args...).Scan(&v); err != nil {
		return 0, false, fmt.Errorf("find the next id in %s: %w", s.info.Qualified, err)
	}
	return toInt(v)
}

// batcher runs one worker's batches on its connection, reusing its buffers.
type batcher struct {
	s       *Store
	z       *batchSizer
	conn    *sql.Conn
	g       *backup.Group
	o       PurgeOptions
	scanner *rowScanner
	idIdx   int
	ids     []int64
	batch   *backup.Batch // the batch's backup rows, encoded and compressed here, off the writer's path
	args    []any
	delSQL  map[int]string
	arrSQL  string // the dialect's one-parameter array delete, "" if none
	arrBuf  []byte
	// slots bounds how many batches run their DELETE at once (nil: as many as workers).
	slots deleteSlots
	// returning: the dialect deletes and returns a batch in one statement (returningSQL).
	returning bool
	// pgText: run batches through pgTextWindow (PostgreSQL); off after a value it cannot convert.
	pgText bool
	params [][]byte
	// raw, rawDest, rawVals: readRow's byte-level scan (nil when a column is of a kind TextRow
	// does not take).
	raw     []sql.RawBytes
	rawDest []any
	rawVals [][]byte
}

func newBatcher(s *Store, conn *sql.Conn, g *backup.Group, w *backup.Writer, o PurgeOptions, z *batchSizer) *batcher {
	b := &batcher{s: s, z: z, conn: conn, g: g, o: o, scanner: newRowScanner(s.info.Columns), delSQL: map[int]string{}, batch: w.NewBatch()}
	for i, c := range s.info.Columns {
		if c.Name == s.info.ID {
			b.idIdx = i
		}
	}
	if ad, ok := s.dialect.(arrayDeleter); ok {
		b.arrSQL = ad.DeleteByArray(s.info.Qualified, s.qID, s.idType())
	}
	if text, _ := s.returningSQL(0, 0, o, 1); text != "" && !s.noReturning {
		b.returning = true
	}
	b.pgText = b.pgTextEligible()
	if textKinds(s.info.Columns) {
		n := len(s.info.Columns)
		b.raw, b.rawDest, b.rawVals = make([]sql.RawBytes, n), make([]any, n), make([][]byte, n)
		for i := range b.raw {
			b.rawDest[i] = &b.raw[i]
		}
	}
	return b
}

// maxDeadlockRetries bounds how often a window is retried after the database chose its
// transaction as a deadlock victim: two workers' batches are disjoint, but InnoDB locks the
// record just past a range it scans, which belongs to the neighbouring window.
const maxDeadlockRetries = 10

// run backs up and deletes the rows in scope in win, and returns how many it deleted and how
// long its transactions held locks (the longest one). A window holds at most one batch when
// probed; should it hold more (rows restored into it meanwhile), it is run again until a batch
// comes back short.
func (b *batcher) run(ctx context.Context, win idWindow) (int, float64, error) {
	total, worst, retries := 0, 0.0, 0
	for {
		got, ms, full, err := b.window(ctx, win)
		if errors.Is(err, errRetry) && retries < maxDeadlockRetries {
			retries++
			continue
		}
		total += got
		worst = max(worst, ms)
		if err != nil || !full {
			return total, worst, err
		}
	}
}

// errRetry marks a batch rolled back by a deadlock before any of its rows reached the backup:
// running it again is safe and changes nothing else.
var errRetry = errors.New("deadlock before the backup write")

// window backs up and deletes the rows in scope in win (at most one batch), in one transaction:
// delete returning the rows (or select, lock and delete them by their exact ids), hand them to
// the backup writer and WAIT until they are fsynced, then commit. Any writer error rolls back.
// full reports that the batch was full and did not reach hi: the window may hold more.
func (b *batcher) window(ctx context.Context, win idWindow) (int, float64, bool, error) {
	if b.pgText {
		n, ms, handled, err := b.pgTextWindow(ctx, win)
		if handled {
			return n, ms, false, err // a ranged delete: the window is done
		}
		b.pgText = false // a value the text path does not convert: the generic way from now on
	}
	s := b.s
	text, args := s.batchSQL(win.lo, win.hi, b.o, win.n)
	ranged := false
	if b.returning {
		text, args, ranged = s.windowReturningSQL(win.lo, win.hi, b.o, win.n)
	}
	ctx, cancel := context.WithTimeout(ctx, batchTimeout)
	defer cancel()
	release, err := b.slots.take(ctx)
	if err != nil {
		return 0, 0, false, err
	}
	defer release()
	tx, err := b.conn.BeginTx(ctx, &sql.TxOptions{Isolation: s.dialect.TxIsolation()})
	if err != nil {
		return 0, 0, false, fmt.Errorf("begin batch: %w", err)
	}
	defer tx.Rollback() // no-op after Commit
	t0 := time.Now()    // lock time: from the first statement that locks rows to the commit
	rows, err := tx.QueryContext(ctx, text, args...)
	if err != nil {
		return 0, 0, false, retryable(fmt.Errorf("batch from %s: %w", s.info.Qualified, err))
	}
	b.ids = b.ids[:0]
	b.batch.Reset()
	top := int64(math.MinInt64)
	for rows.Next() {
		id, err := b.readRow(rows)
		if err != nil {
			rows.Close()
			return 0, 0, false, fmt.Errorf("read batch from %s: %w", s.info.Qualified, err)
		}
		b.ids = append(b.ids, id)
		top = max(top, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, false, retryable(fmt.Errorf("read batch from %s: %w", s.info.Qualified, err))
	}
	if len(b.ids) == 0 {
		return 0, 0, false, nil
	}
	// Delete before the backup write (else the rows read are the rows the statement deleted):
	// the invariant is only that nothing commits before its rows are durable, and a deadlock
	// met here leaves nothing in the backup, so the batch can simply be run again.
	if !b.returning {
		if err := b.deleteIDs(ctx, tx); err != nil {
			return 0, 0, false, retryable(err)
		}
	}
	t1 := time.Now()
	release() // the backup write and the commit overlap the next batch's delete
	if err := b.durable(); err != nil {
		return 0, 0, false, err
	}
	t2 := time.Now()
	if err := tx.Commit(); err != nil {
		return 0, 0, false, fmt.Errorf("commit batch on %s: %w", s.info.Qualified, err)
	}
	full := !ranged && len(b.ids) >= win.n && top < win.hi
	ms := b.lockTime(len(b.ids), win.n, t0, t1, t2)
	return len(b.ids), ms, full, nil
}

// lockTime is how long a committed batch held its locks, in ms, fed to the batch sizer; a batch
// over the high water mark is logged (debug) with its parts: the delete and reading its rows
// (t0 to t1), the backup write until fsynced (t1 to t2, also waiting for the other workers'
// batches in the same fsync), and the commit.
func (b *batcher) lockTime(rows, asked int, t0, t1, t2 time.Time) float64 {
	now := time.Now()
	ms := float64(now.Sub(t0).Microseconds()) / 1000
	b.z.observe(rows, asked, ms)
	if b.z.slow(ms) {
		b.s.log.Debug("slow batch", "rows", rows, "ms", ms, "delete_ms", t1.Sub(t0).Milliseconds(),
			"backup_ms", t2.Sub(t1).Milliseconds(), "commit_ms", now.Sub(t2).Milliseconds())
	}
	return ms
}

// durable writes the batch's rows to the backup and returns once they are fsynced: the one step
// every batch takes before its delete may commit (both read paths call it).
func (b *batcher) durable() error {
	if err := b.g.Write(b.batch); err != nil {
		return err
	}
	if b.s.afterSync != nil {
		b.s.afterSync()
	}
	return nil
}

// readRow adds the current row to the batch and returns its id. It first reads every value as
// the driver's bytes (sql.RawBytes: no allocation, no conversion) and lets Batch.TextRow write
// them; a row it does not take (a time not in UTC, an infinite or BC time, a float where an
// integer was expected) is converted from those same bytes (rowScanner.fromText): database/sql
// refuses a second Scan of a row scanned into RawBytes.
func (b *batcher) readRow(rows *sql.Rows) (int64, error) {
	var vals []any
	if b.raw != nil {
		if err := rows.Scan(b.rawDest...); err != nil {
			return 0, err
		}
		for i := range b.raw {
			b.rawVals[i] = b.raw[i]
		}
		err := b.batch.TextRow(b.rawVals)
		if err == nil {
			if id, err := strconv.ParseInt(string(b.raw[b.idIdx]), 10, 64); err == nil {
				return id, nil
			}
			return 0, fmt.Errorf("id %q is not an integer", b.raw[b.idIdx])
		}
		if !errors.Is(err, backup.ErrNotText) {
			return 0, err
		}
		if vals, err = b.scanner.fromText(b.raw); err != nil {
			return 0, err
		}
	} else {
		var err error
		if vals, err = b.scanner.scan(rows); err != nil {
			return 0, err
		}
	}
	id, _ := vals[b.idIdx].(int64)
	return id, b.batch.Row(vals)
}

// retryable wraps err with errRetry when the database rolled the transaction back as a deadlock
// victim (MySQL/MariaDB 1213, SQLSTATE 40001 serialization failure or 40P01 deadlock).
func retryable(err error) error {
	var my *mysql.MySQLError
	if errors.As(err, &my) && my.Number == 1213 {
		return fmt.Errorf("%w: %w", errRetry, err)
	}
	var st interface{ SQLState() string }
	if errors.As(err, &st) && (st.SQLState() == "40001" || st.SQLState() == "40P01") {
		return fmt.Errorf("%w: %w", errRetry, err)
	}
	return err
}

// windowReturningSQL is a batch's DELETE … RETURNING over the window (lo, hi]. On PostgreSQL and
// SQLite it is a plain id-range delete (ranged): the window was probed to hold at most one
// batch, so no LIMIT subquery is needed, and one index range scan costs the database about
// half of ARRAY(SELECT … LIMIT n) plus n index lookups (measured in bench/purge). MariaDB's
// DELETE … ORDER BY id LIMIT n is already a range scan and keeps its LIMIT.
func (s *Store) windowReturningSQL(lo, hi int64, o PurgeOptions, n int) (string, []any, bool) {
	if s.dialect.caps().rangedDelete {
		q := &query{d: s.dialect}
		cond := and(s.qID+" > "+q.arg(lo), s.scope(q, hi, o))
		return "DELETE FROM " + s.info.Qualified + where(cond) + " RETURNING " + s.qCols, q.args, true
	}
	text, args := s.returningSQL(lo, hi, o, n)
	return text, args, false
}

// deleteIDs deletes exactly b.ids: one array parameter where the dialect has one, else IN lists
// split below the dialect's bind-parameter limit.
func (b *batcher) deleteIDs(ctx context.Context, tx *sql.Tx) error {
	s := b.s
	if b.arrSQL != "" {
		buf := append(b.arrBuf[:0], '{')
		for i, id := range b.ids {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendInt(buf, id, 10)
		}
		b.arrBuf = append(buf, '}')
		if _, err := tx.ExecContext(ctx, b.arrSQL, string(b.arrBuf)); err != nil {
			return fmt.Errorf("delete batch from %s: %w", s.info.Qualified, err)
		}
		return nil
	}
	chunk := s.dialect.MaxBindParams()
	for start := 0; start < len(b.ids); start += chunk {
		part := b.ids[start:min(start+chunk, len(b.ids))]
		del, ok := b.delSQL[len(part)]
		if !ok {
			del = deleteByIDs(s.dialect, s.info.Qualified, s.qID, len(part))
			b.delSQL[len(part)] = del
		}
		b.args = b.args[:0]
		for _, id := range part {
			b.args = append(b.args, id)
		}
		if _, err := tx.ExecContext(ctx, del, b.args...); err != nil {
			return fmt.Errorf("delete batch from %s: %w", s.info.Qualified, err)
		}
	}
	return nil
}

// deleteSlots bounds how many of a purge's batches are in their delete (the statement and
// reading its rows) at once, while the other workers write their backups and commit (caps.go
// says why InnoDB wants it; the PostgreSQL text path does not take slots). nil: no bound.
type deleteSlots chan struct{}

// take waits for a slot; release gives it back (once; later calls do nothing).
func (d deleteSlots) take(ctx context.Context) (release func(), err error) {
	if d == nil {
		return func() {}, nil
	}
	select {
	case d <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() { once.Do(func() { <-d }) }, nil
}
