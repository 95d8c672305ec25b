package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/reauth/reauth/backup"
)

// maxWindowFactor caps how wide (in ids, as a multiple of the batch size) one batch's id window
// may grow when ids are sparse or the filters match few rows.
const maxWindowFactor = 1024

// batcher runs one batch at a time on one connection, reusing its buffers.
//
// Each batch reads an id WINDOW (lo, hi] with ORDER BY id LIMIT n, never the whole rest of the
// table: on a table the planner has no statistics for (just bulk-loaded, or grown since the last
// ANALYZE), PostgreSQL estimates a handful of rows and sorts every remaining row for every batch,
// which made a purge quadratic. A window bounds what any plan can touch. Its width adapts:
// it grows while windows come back short of a batch, and gaps are skipped with an index
// MIN(id) lookup.
type batcher struct {
	s       *Store
	conn    *sql.Conn
	w       *backup.Writer
	o       PurgeOptions
	cutoff  int64
	lo      int64 // every row in scope with id <= lo is done
	width   int64 // current window width in ids
	started bool
	scanner *rowScanner
	idIdx   int
	ids     []int64
	args    []any
	delSQL  map[int]string
	arrSQL  string // the dialect's one-parameter array delete, "" if none
	arrBuf  []byte
	// returning: the dialect deletes and returns a batch in one statement (returningSQL), in
	// no particular order: a full batch means its window may hold more, so it is run again.
	returning bool
}

func newBatcher(s *Store, conn *sql.Conn, w *backup.Writer, o PurgeOptions, cutoff int64) *batcher {
	b := &batcher{s: s, conn: conn, w: w, o: o, cutoff: cutoff, lo: math.MinInt64, width: int64(o.batchSize()),
		scanner: newRowScanner(s.info.Columns), delSQL: map[int]string{}}
	for i, c := range s.info.Columns {
		if c.Name == s.info.ID {
			b.idIdx = i
		}
	}
	if ad, ok := s.dialect.(arrayDeleter); ok {
		b.arrSQL = ad.DeleteByArray(s.info.Qualified, s.qID, s.idType())
	}
	if text, _ := s.returningSQL(0, 0, o); text != "" && !s.noReturning {
		b.returning = true
	}
	return b
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// nextID is the smallest id above after and up to the cut-off (ok false: none).
func (b *batcher) nextID(ctx context.Context, after int64) (int64, bool, error) {
	s := b.s
	q := &query{d: s.dialect}
	text := "SELECT MIN(" + s.qID + ") FROM " + s.info.Qualified + " WHERE " + s.qID + " > " + q.arg(after) + " AND " + s.qID + " <= " + q.arg(b.cutoff)
	var v any
	if err := b.conn.QueryRowContext(ctx, text, q.args...).Scan(&v); err != nil {
		return 0, false, fmt.Errorf("find the next id in %s: %w", s.info.Qualified, err)
	}
	n, ok, err := toInt(v)
	return n, ok, err
}

// run deletes the next batch and returns how many rows it deleted (0: nothing left) and how
// long its transaction held locks.
func (b *batcher) run(ctx context.Context) (int, float64, error) {
	ctx, cancel := context.WithTimeout(ctx, batchTimeout)
	defer cancel()
	n := b.o.batchSize()
	maxWidth := int64(n) * maxWindowFactor
	if !b.started {
		first, ok, err := b.nextID(ctx, b.lo)
		if err != nil || !ok {
			return 0, 0, err
		}
		b.lo, b.started = first-1, true
	}
	for b.lo < b.cutoff {
		hi := min(satAdd(b.lo, b.width), b.cutoff)
		got, ms, err := b.window(ctx, hi)
		if err != nil {
			return 0, 0, err
		}
		switch {
		case got == n: // the window may hold more: continue it from the last id, or run it again
			if !b.returning {
				b.lo = b.ids[len(b.ids)-1]
			}
			return got, ms, nil
		case got > 0:
			// The window ran out before the batch filled: widen it in proportion, so that the
			// next one holds about a batch (at most doubling: density can change).
			b.lo = hi
			b.width = min(max(b.width*int64(n)/int64(got), b.width+1), b.width*2, maxWidth)
			return got, ms, nil
		}
		// Nothing in scope in this window: skip to the next id, and widen.
		b.width = min(b.width*2, maxWidth)
		next, ok, err := b.nextID(ctx, hi)
		if err != nil || !ok {
			return 0, 0, err
		}
		b.lo = next - 1
	}
	return 0, 0, nil
}

// window backs up and deletes the rows in scope with lo < id <= hi (at most one batch), in one
// transaction: select and lock, append to the backup and fsync, delete by the exact ids, commit;
// or, where the dialect can, delete returning the rows, append and fsync them, commit.
func (b *batcher) window(ctx context.Context, hi int64) (int, float64, error) {
	s := b.s
	text, args := s.batchSQL(b.lo, hi, b.o)
	if b.returning {
		text, args = s.returningSQL(b.lo, hi, b.o)
	}
	t0 := time.Now()
	tx, err := b.conn.BeginTx(ctx, &sql.TxOptions{Isolation: s.dialect.TxIsolation()})
	if err != nil {
		return 0, 0, fmt.Errorf("begin batch: %w", err)
	}
	defer tx.Rollback() // no-op after Commit
	rows, err := tx.QueryContext(ctx, text, args...)
	if err != nil {
		return 0, 0, fmt.Errorf("batch from %s: %w", s.info.Qualified, err)
	}
	b.ids = b.ids[:0]
	for rows.Next() {
		vals, err := b.scanner.scan(rows)
		if err != nil {
			rows.Close()
			return 0, 0, fmt.Errorf("read batch from %s: %w", s.info.Qualified, err)
		}
		id, _ := vals[b.idIdx].(int64)
		b.ids = append(b.ids, id)
		if err := b.w.Append(vals); err != nil {
			rows.Close()
			return 0, 0, err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("read batch from %s: %w", s.info.Qualified, err)
	}
	if len(b.ids) == 0 {
		return 0, 0, nil
	}
	// The rows are on disk before their delete can commit.
	if err := b.w.Sync(); err != nil {
		return 0, 0, err
	}
	if s.afterSync != nil {
		s.afterSync()
	}
	if !b.returning { // else the rows read are the rows the statement deleted
		if err := b.deleteIDs(ctx, tx); err != nil {
			return 0, 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("commit batch on %s: %w", s.info.Qualified, err)
	}
	return len(b.ids), float64(time.Since(t0).Microseconds()) / 1000, nil
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
