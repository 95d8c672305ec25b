package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/reauth/reauth/backup"
)

// pgTextBegin opens a PostgreSQL batch transaction whose results print times in UTC and ISO
// form, the text backup.Batch.TextRow reads. SET LOCAL ends with the transaction: the session
// is left as it was.
const pgTextBegin = "BEGIN; SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'"

// pgTextEligible: the fast path applies on PostgreSQL with the ranged DELETE … RETURNING, for a
// table whose columns are all integers, text or times (every token table in the catalog).
func (b *batcher) pgTextEligible() bool {
	if !b.s.dialect.caps().textBatches || !b.returning || b.s.noPGText {
		return false
	}
	return textKinds(b.s.info.Columns)
}

// textKinds: every column is of a kind Batch.TextRow converts (integers, text, times).
func textKinds(cols []backup.Column) bool {
	for _, c := range cols {
		switch c.Kind {
		case backup.KindInt, backup.KindString, backup.KindTime:
		default:
			return false
		}
	}
	return true
}

// pgTextWindow is window() on PostgreSQL without database/sql's and pgx's per-value decoding:
// the DELETE … RETURNING runs on pgx's wire-level connection with every result column in text
// format, and each row's text goes straight into the backup's JSON line (a third of the
// client's CPU in a purge went to decoding values only to encode them again). The invariant is
// the same: the rows are fsynced to the backup before COMMIT. handled is false, with nothing
// changed (rolled back), when a value is not in a form TextRow converts or the connection is not
// pgx's: the caller then runs the window the generic way.
func (b *batcher) pgTextWindow(ctx context.Context, win idWindow) (n int, ms float64, handled bool, err error) {
	s := b.s
	text, args, _ := s.windowReturningSQL(win.lo, win.hi, b.o, win.n)
	params, ok := textParams(b.params[:0], args)
	if !ok {
		return 0, 0, false, nil
	}
	b.params = params
	ctx, cancel := context.WithTimeout(ctx, batchTimeout)
	defer cancel()
	err = b.conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return nil
		}
		pc := sc.Conn().PgConn()
		if err := pc.Exec(ctx, pgTextBegin).Close(); err != nil {
			return retryable(fmt.Errorf("begin batch: %w", err))
		}
		t0 := time.Now() // lock time: from the DELETE to the commit
		committed := false
		defer func() {
			if !committed {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
				_ = pc.Exec(rctx, "ROLLBACK").Close()
				cancel()
			}
		}()
		b.batch.Reset()
		rr := pc.ExecParams(ctx, text, params, nil, nil, nil) // nil formats: text in, text out
		var convErr error
		for rr.NextRow() {
			if convErr == nil {
				convErr = b.batch.TextRow(rr.Values())
			}
		}
		if _, err := rr.Close(); err != nil {
			handled = true
			return retryable(fmt.Errorf("batch from %s: %w", s.info.Qualified, err))
		}
		if errors.Is(convErr, backup.ErrNotText) {
			return nil // rolled back; the generic path runs the window
		}
		handled = true
		if convErr != nil {
			return convErr
		}
		if b.batch.Rows() == 0 {
			return nil
		}
		t1 := time.Now()
		if err := b.durable(); err != nil {
			return err
		}
		t2 := time.Now()
		res, err := pc.Exec(ctx, "COMMIT").ReadAll()
		committed = true // or failed: there is nothing left to roll back
		if err != nil {
			return fmt.Errorf("commit batch on %s: %w", s.info.Qualified, err)
		}
		if len(res) != 1 || res[0].CommandTag.String() != "COMMIT" {
			return fmt.Errorf("commit batch on %s: the database rolled the transaction back", s.info.Qualified)
		}
		n = b.batch.Rows()
		ms = b.lockTime(n, win.n, t0, t1, t2)
		s.pgTextBatches.Add(1)
		return nil
	})
	return n, ms, handled, err
}

// textParams encodes a batch's arguments in PostgreSQL's text format; ok is false for a type
// it does not encode (the generic path then runs the window).
func textParams(dst [][]byte, args []any) ([][]byte, bool) {
	for _, a := range args {
		switch v := a.(type) {
		case int64:
			dst = append(dst, strconv.AppendInt(nil, v, 10))
		case string:
			dst = append(dst, []byte(v))
		case time.Time:
			dst = append(dst, v.UTC().AppendFormat(nil, time.RFC3339Nano))
		default:
			return dst, false
		}
	}
	return dst, true
}
