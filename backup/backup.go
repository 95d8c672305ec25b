// Package backup is reauth's backup file: gzip-compressed JSON Lines holding a manifest line, one
// line per deleted token row, and a trailer line with the row count and the sha256 of the row
// lines. The writer appends, flushes and fsyncs per batch, so that a crash in the middle of a
// purge leaves every row whose delete committed readable; the reader verifies the trailer and can
// still read a file whose trailer is missing (a crash), reporting it as truncated.
package backup

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/reauth/reauth"
)

// FormatVersion is the version of the file format written by this package.
const FormatVersion = 1

// Kind says how a column's values are typed in the file (and scanned from the database).
type Kind string

const (
	KindInt    Kind = "int"    // JSON number (int64)
	KindFloat  Kind = "float"  // JSON number
	KindString Kind = "string" // JSON string (also exact decimals with a fraction)
	KindTime   Kind = "time"   // JSON string, RFC 3339 with nanoseconds
	KindBool   Kind = "bool"   // JSON true/false
	KindBytes  Kind = "bytes"  // JSON string, standard base64
)

// Column is one column of the backed-up table: its real name, its SQL type as the database
// reports it, and how its values are typed in the file.
type Column struct {
	Name    string `json:"name"`
	SQLType string `json:"sql_type"`
	Kind    Kind   `json:"kind"`
}

// Database identifies where the rows came from. It has no password field on purpose.
type Database struct {
	Engine string `json:"engine"`
	Host   string `json:"host,omitempty"`
	Port   int    `json:"port,omitempty"`
	Name   string `json:"name,omitempty"`
	Schema string `json:"schema,omitempty"`
	User   string `json:"user,omitempty"`
}

// DatabaseOf copies the non-secret identity of db.
func DatabaseOf(db reauth.Database) Database {
	return Database{Engine: string(db.Engine), Host: db.Host, Port: db.Port, Name: db.Name, Schema: db.Schema, User: db.User}
}

// Filters records the purge's scope in the manifest, so a reader knows what the rows are.
type Filters struct {
	Before       *time.Time `json:"before,omitempty"`
	Users        []string   `json:"users,omitempty"`
	ExcludeUsers []string   `json:"exclude_users,omitempty"`
}

// Manifest is the first line of a backup file.
type Manifest struct {
	Type          string    `json:"type"` // "reauth-backup"
	Format        int       `json:"format"`
	Product       string    `json:"product"`
	Table         string    `json:"table"`      // schema-qualified and quoted, as the database spells it
	TableName     string    `json:"table_name"` // the bare table name
	IDColumn      string    `json:"id_column"`
	Columns       []Column  `json:"columns"`
	Database      Database  `json:"database"`
	CutoffID      int64     `json:"cutoff_id"`
	Filters       Filters   `json:"filters"`
	ReauthVersion string    `json:"reauth_version"`
	Started       time.Time `json:"started"`
}

// DefaultName is the backup file name used when the operator gives none:
// reauth-<product>-<UTC time>.jsonl.gz (sortable, and unique per second).
func DefaultName(product string, t time.Time) string {
	return "reauth-" + product + "-" + t.UTC().Format("20060102T150405Z") + ".jsonl.gz"
}

// Trailer is the last line of a complete backup file.
type Trailer struct {
	Type   string `json:"type"` // "reauth-trailer"
	Rows   int64  `json:"rows"`
	SHA256 string `json:"sha256"` // of the row lines, each with its "\n"
}

const (
	manifestType = "reauth-backup"
	trailerType  = "reauth-trailer"
)

// Summary is what a finished (or verified) backup holds.
type Summary struct {
	Path   string
	Rows   int64
	SHA256 string
}

// Writer appends rows to a new backup file. It is not safe for concurrent use.
type Writer struct {
	f    *os.File
	cw   *countingWriter
	pub  published // what a Follower may read
	gz   *gzip.Writer
	bw   *bufio.Writer
	sum  hash.Hash
	cols []Column
	rows int64
	line []byte // reused per row: the purge loop stays allocation-light
	done bool
}

// Create makes a new backup file at path (mode 0600, O_EXCL: an existing file is never
// overwritten) and writes the manifest, flushed and synced.
func Create(path string, m Manifest) (*Writer, error) {
	if len(m.Columns) == 0 {
		return nil, errors.New("backup: manifest has no columns")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, reauth.Refused("choose another --backup file name; reauth never overwrites a backup",
				"backup file %s already exists", path)
		}
		return nil, fmt.Errorf("create backup file: %w", err)
	}
	// BestSpeed: the backup must not make a purge slower than a manual dump; token rows are
	// short hex strings, which compress well even at level 1.
	cw := &countingWriter{f: f}
	gz, _ := gzip.NewWriterLevel(cw, gzip.BestSpeed)
	w := &Writer{f: f, cw: cw, gz: gz, bw: bufio.NewWriterSize(gz, 64<<10), sum: sha256.New(), cols: m.Columns}
	m.Type, m.Format = manifestType, FormatVersion
	if err := writeJSONLine(w.bw, m); err != nil {
		w.abort()
		return nil, fmt.Errorf("write backup manifest: %w", err)
	}
	if err := w.Sync(); err != nil {
		w.abort()
		return nil, err
	}
	// Sync the directory too, so the new name survives a crash along with its content.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return w, nil
}

func (w *Writer) abort() {
	w.done = true
	w.pub.publish(w.cw.n, true)
	w.f.Close()
}

// Path is the file's name.
func (w *Writer) Path() string { return w.f.Name() }

// Rows is the number of rows appended so far.
func (w *Writer) Rows() int64 { return w.rows }

// Append adds one row; vals are in manifest column order, each nil or of the Go type of its
// column's Kind (int64, float64, string, time.Time, bool, []byte). Call Sync to make it durable.
func (w *Writer) Append(vals []any) error {
	b, err := w.EncodeRow(w.line[:0], vals)
	if err != nil {
		return err
	}
	w.line = b
	return w.AppendEncoded(b, 1)
}

// EncodeRow appends vals' JSON line (with its "\n") to dst, as Append would write it. It only
// reads the manifest's columns, so concurrent callers may encode rows while another goroutine
// appends: the purge encodes each batch on its database worker, off the writer's critical path.
func (w *Writer) EncodeRow(dst []byte, vals []any) ([]byte, error) {
	if len(vals) != len(w.cols) {
		return dst, fmt.Errorf("backup: row has %d values, manifest has %d columns", len(vals), len(w.cols))
	}
	b := append(dst, '{')
	for i, c := range w.cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, c.Name)
		b = append(b, ':')
		var err error
		if b, err = appendValue(b, vals[i]); err != nil {
			return dst, fmt.Errorf("backup: column %s: %w", c.Name, err)
		}
	}
	return append(b, '}', '\n'), nil
}

// AppendEncoded adds rows lines made by EncodeRow (whole lines only). Call Sync to make them
// durable.
func (w *Writer) AppendEncoded(lines []byte, rows int) error {
	if w.done {
		return errors.New("backup: append after close")
	}
	w.sum.Write(lines)
	if _, err := w.bw.Write(lines); err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	w.rows += int64(rows)
	return nil
}

// Sync makes every appended row durable: buffer → gzip flush → fsync. The purge calls it before
// each batch's DELETE commits.
func (w *Writer) Sync() error {
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	if err := w.gz.Flush(); err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync backup file: %w", err)
	}
	w.pub.publish(w.cw.n, false)
	return nil
}

// Close writes the trailer, finishes the gzip stream, syncs and closes the file.
func (w *Writer) Close() (Summary, error) {
	if w.done {
		return Summary{}, errors.New("backup: already closed")
	}
	w.done = true
	s := Summary{Path: w.f.Name(), Rows: w.rows, SHA256: hex.EncodeToString(w.sum.Sum(nil))}
	err := writeJSONLine(w.bw, Trailer{Type: trailerType, Rows: s.Rows, SHA256: s.SHA256})
	if err == nil {
		err = w.bw.Flush()
	}
	if err == nil {
		err = w.gz.Close()
	}
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.pub.publish(w.cw.n, true)
	if err != nil {
		return s, fmt.Errorf("finish backup file %s: %w", s.Path, err)
	}
	return s, nil
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

// appendString writes s as a JSON string. Invalid UTF-8 is replaced (as encoding/json does);
// text columns of the token tables hold ASCII tokens and login names.
func appendString(b []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
