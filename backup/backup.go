// Package backup is reauth's backup file: gzip-compressed JSON Lines holding a manifest line, one
// line per deleted token row, and a trailer line with the row count and the sha256 of the row
// lines. The writer appends one gzip member per batch and fsyncs it, so that a crash in the
// middle of a purge leaves every row whose delete committed readable; the reader verifies the trailer and can
// still read a file whose trailer is missing (a crash), reporting it as truncated.
package backup

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

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
	// Instance is the SQL Server named instance.
	Instance string `json:"instance,omitempty"`
}

// SamePlace reports whether d and o name the same database: engine, host, port, name and
// instance (the user and the configured schema may differ: the table check covers the table).
func (d Database) SamePlace(o Database) bool {
	return strings.EqualFold(d.Engine, o.Engine) && strings.EqualFold(d.Host, o.Host) && d.Port == o.Port &&
		d.Name == o.Name && strings.EqualFold(d.Instance, o.Instance)
}

// String is the identity as a person reads it, as reauth.Database writes it.
func (d Database) String() string {
	return reauth.Database{Engine: reauth.Engine(d.Engine), Host: d.Host, Port: d.Port, Name: d.Name, Schema: d.Schema,
		User: d.User, Instance: d.Instance}.String()
}

// DatabaseOf copies the non-secret identity of db.
func DatabaseOf(db reauth.Database) Database {
	return Database{Engine: string(db.Engine), Host: db.Host, Port: db.Port, Name: db.Name, Schema: db.Schema, User: db.User,
		Instance: db.Instance}
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

// Writer appends rows to a new backup file. It is not safe for concurrent use, but Batches
// (NewBatch) may be filled and sealed on other goroutines while it appends.
//
// The file is a sequence of gzip members (RFC 1952 allows several; every gzip reader reads them
// as one stream): the manifest, one member per batch of rows, and the trailer. A batch is
// compressed by whoever fills it (the purge's database workers, in parallel), so appending it
// is only a write; a crash can only cut the last member, and every complete member before it
// reads back.
type Writer struct {
	f       *os.File
	cw      *countingWriter
	pub     published // what a Follower may read
	sum     hash.Hash
	cols    []Column
	rows    int64
	pending *Batch // rows given to Append, sealed and written by Sync
	done    bool
}

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

func errExists(path string) error {
	return reauth.Refused("choose another --backup file name; reauth never overwrites a backup",
		"backup file %s already exists", path)
}

// CheckNew refuses, without writing anything, a backup path that Create would refuse: one that
// exists, or whose directory does not (so that a dry run or a plan finds it before any change).
func CheckNew(path string) error {
	if _, err := os.Lstat(path); err == nil {
		return errExists(path)
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return reauth.Refused("create the directory first, or give --backup a path in an existing directory",
			"the backup's directory %s does not exist", dir)
	}
	return nil
}

// Create makes a new backup file at path (mode 0600, O_EXCL: an existing file is never
// overwritten) and writes the manifest, synced.
func Create(path string, m Manifest) (*Writer, error) {
	if len(m.Columns) == 0 {
		return nil, errors.New("backup: manifest has no columns")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, errExists(path)
		}
		return nil, fmt.Errorf("create backup file: %w", err)
	}
	w := &Writer{f: f, cw: &countingWriter{f: f}, sum: sha256.New(), cols: m.Columns}
	w.pending = w.NewBatch()
	m.Type, m.Format = manifestType, FormatVersion
	if err := w.writeMember(m); err != nil {
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

// writeMember writes v as one JSON line in a gzip member of its own (the manifest, the trailer).
func (w *Writer) writeMember(v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if _, err := gz.Write(append(line, '\n')); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	_, err = w.cw.Write(buf.Bytes())
	return err
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

// Append adds one row to a batch that the next Sync writes; vals are as Batch.Row takes them.
func (w *Writer) Append(vals []any) error {
	if w.done {
		return errors.New("backup: append after close")
	}
	return w.pending.Row(vals)
}

// AppendBatch writes a batch (sealing it if needed). Call Sync to make it durable.
func (w *Writer) AppendBatch(b *Batch) error {
	if w.done {
		return errors.New("backup: append after close")
	}
	if b.rows == 0 {
		return nil
	}
	if err := b.Seal(); err != nil {
		return err
	}
	if _, err := w.cw.Write(b.member.Bytes()); err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	w.sum.Write(b.lines)
	w.rows += int64(b.rows)
	return nil
}

// Sync makes every appended row durable: the rows Append took are written as a batch, then
// the file is fsynced. The purge calls it before each batch's DELETE commits.
func (w *Writer) Sync() error {
	if w.pending.rows > 0 {
		if err := w.AppendBatch(w.pending); err != nil {
			return err
		}
		w.pending.Reset()
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync backup file: %w", err)
	}
	w.pub.publish(w.cw.n, false)
	return nil
}

// Close writes the trailer, syncs and closes the file.
func (w *Writer) Close() (Summary, error) {
	if w.done {
		return Summary{}, errors.New("backup: already closed")
	}
	var err error
	if w.pending.rows > 0 {
		err = w.AppendBatch(w.pending)
		w.pending.Reset()
	}
	w.done = true
	s := Summary{Path: w.f.Name(), Rows: w.rows, SHA256: hex.EncodeToString(w.sum.Sum(nil))}
	if err == nil {
		err = w.writeMember(Trailer{Type: trailerType, Rows: s.Rows, SHA256: s.SHA256})
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
