package backup

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Batch is a group of rows encoded as JSON lines and then compressed into one gzip member. Fill
// it with Row, Seal it, hand it to Writer.AppendBatch (or Group.Write), then Reset to reuse it.
type Batch struct {
	cols   []Column
	keys   [][]byte // each column's `"name":`, encoded once
	lines  []byte   // the rows' JSON lines, each with its "\n"
	rows   int
	member bytes.Buffer // the sealed gzip member
	gz     *gzip.Writer
	sealed bool
}

// NewBatch makes an empty batch for w's columns. It only reads the manifest's columns, so it may
// be used on any goroutine.
func (w *Writer) NewBatch() *Batch { return newBatch(w.cols) }

func newBatch(cols []Column) *Batch {
	b := &Batch{cols: cols, keys: make([][]byte, len(cols))}
	for i, c := range cols {
		b.keys[i] = append(appendString(nil, c.Name), ':')
	}
	// BestSpeed: the backup must not make a purge slower than a manual dump; token rows are
	// short hex strings, which compress well even at level 1.
	b.gz, _ = gzip.NewWriterLevel(&b.member, gzip.BestSpeed)
	return b
}

// Reset empties the batch for reuse.
func (b *Batch) Reset() {
	b.lines, b.rows, b.sealed = b.lines[:0], 0, false
	b.member.Reset()
}

// Rows is how many rows the batch holds.
func (b *Batch) Rows() int { return b.rows }

// Row appends one row; vals are in manifest column order, each nil or of the Go type of its
// column's Kind (int64, float64, string, time.Time, bool, []byte).
func (b *Batch) Row(vals []any) error {
	if b.sealed {
		return errors.New("backup: row added to a sealed batch")
	}
	line, err := encodeRow(b.lines, b.cols, b.keys, vals)
	if err != nil {
		return err
	}
	b.lines = line
	b.rows++
	return nil
}

// Seal compresses the batch's rows into its gzip member.
func (b *Batch) Seal() error {
	if b.sealed {
		return nil
	}
	b.member.Reset()
	b.gz.Reset(&b.member)
	if _, err := b.gz.Write(b.lines); err != nil {
		return fmt.Errorf("compress backup batch: %w", err)
	}
	if err := b.gz.Close(); err != nil {
		return fmt.Errorf("compress backup batch: %w", err)
	}
	b.sealed = true
	return nil
}

// encodeRow appends vals' JSON line (with its "\n") to dst; keys are the columns' encoded names.
func encodeRow(dst []byte, cols []Column, keys [][]byte, vals []any) ([]byte, error) {
	if len(vals) != len(cols) {
		return dst, fmt.Errorf("backup: row has %d values, manifest has %d columns", len(vals), len(cols))
	}
	b := append(dst, '{')
	for i, c := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, keys[i]...)
		var err error
		if b, err = appendValue(b, vals[i]); err != nil {
			return dst, fmt.Errorf("backup: column %s: %w", c.Name, err)
		}
	}
	return append(b, '}', '\n'), nil
}

func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return b, fmt.Errorf("cannot store %v in JSON", x)
		}
		return strconv.AppendFloat(b, x, 'g', -1, 64), nil
	case string:
		return appendString(b, x), nil
	case time.Time:
		b = append(b, '"')
		b = x.AppendFormat(b, time.RFC3339Nano)
		return append(b, '"'), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case []byte:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, x)
		return append(b, '"'), nil
	default:
		return b, fmt.Errorf("unsupported value type %T", v)
	}
}
