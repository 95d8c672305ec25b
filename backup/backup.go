// Package backup is reauth's backup file: gzip-compressed JSON Lines holding a manifest line, one
// line per deleted token row, and a trailer line with the row count and the sha256 of the
// manifest and row lines. The writer appends one gzip member per batch and fsyncs it, so that a
// crash in the middle of a purge leaves every row whose delete committed readable; the reader
// returns a batch's rows only once the whole batch is read and checked, verifies the trailer,
// and reports a file without one as truncated (ErrTruncated). With recipients, every batch is
// encrypted with age and the manifest is authenticated (age.go).
package backup

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/reauth/reauth"
)

// FormatVersion is the version of the file format written by this package. Format 2: the
// trailer's sha256 covers the manifest line too, and the file may be encrypted (age.go).
const FormatVersion = 2

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
	// Encryption is "age" for an encrypted backup (its rows are readable only with an identity).
	Encryption string `json:"encryption,omitempty"`
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
	SHA256 string `json:"sha256"` // of the manifest line (format 2) and the row lines, each with its "\n"
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
//
// A failed write or sync is sticky: every later Append, Sync and Close returns it, and Close
// writes no trailer, so that a file missing rows never looks complete.
type Writer struct {
	f       *os.File
	cw      *countingWriter
	pub     published // what a Follower may read
	sum     hash.Hash
	cols    []Column
	rows    int64
	pending *Batch // rows given to Append, sealed and written by Sync
	done    bool
	err     error   // the first write or sync error
	enc     *sealer // nil for a clear backup
	// verifyIDs decrypt the file for Follow: the file key, which lives only in this process's
	// memory.
	verifyIDs []Identity
	syncFile  func() error // the file's fsync (a test hook makes it fail)
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
// overwritten) and writes the manifest, synced. With recipients the rows are encrypted to them
// (age); the manifest stays readable, and authenticated.
func Create(path string, m Manifest, recipients ...Recipient) (*Writer, error) {
	if len(m.Columns) == 0 {
		return nil, errors.New("backup: manifest has no columns")
	}
	m.Type, m.Format, m.Encryption = manifestType, FormatVersion, ""
	if len(recipients) > 0 {
		m.Encryption = encryptionAge
	}
	line, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("backup manifest: %w", err)
	}
	line = append(line, '\n')
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, errExists(path)
		}
		return nil, fmt.Errorf("create backup file: %w", err)
	}
	w := &Writer{f: f, cw: &countingWriter{f: f}, sum: sha256.New(), cols: m.Columns, syncFile: f.Sync}
	w.pending = w.NewBatch()
	w.sum.Write(line) // format 2: the checksum covers the manifest
	member, err := gzipMember(line)
	if err == nil {
		_, err = w.cw.Write(member)
	}
	if err == nil && len(recipients) > 0 {
		var first []byte
		if w.enc, first, err = newSealer(recipients, line[:len(line)-1]); err == nil {
			_, err = w.cw.Write(first)
			w.verifyIDs = []Identity{fileKey(w.enc.key)}
		}
	}
	if err != nil {
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

// Encrypted reports whether the rows are encrypted.
func (w *Writer) Encrypted() bool { return w.enc != nil }

func gzipMember(plain []byte) ([]byte, error) {
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if _, err := gz.Write(plain); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeMember writes a gzip member to the file, encrypted into a frame when the backup is.
func (w *Writer) writeMember(member []byte) error {
	if w.enc != nil {
		frame, err := w.enc.seal(member)
		if err != nil {
			return err
		}
		member = frame
	}
	_, err := w.cw.Write(member)
	return err
}

func (w *Writer) abort() {
	w.done = true
	w.pub.publish(w.cw.n, true)
	w.f.Close()
}

// fail records the writer's first error; it is returned from then on.
func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// Path is the file's name.
func (w *Writer) Path() string { return w.f.Name() }

// Rows is the number of rows appended so far.
func (w *Writer) Rows() int64 { return w.rows }

// Append adds one row to a batch that the next Sync writes; vals are as Batch.Row takes them.
func (w *Writer) Append(vals []any) error {
	if w.err != nil {
		return w.err
	}
	if w.done {
		return errors.New("backup: append after close")
	}
	return w.pending.Row(vals)
}

// AppendBatch writes a batch (sealing it if needed). Call Sync to make it durable.
func (w *Writer) AppendBatch(b *Batch) error {
	if w.err != nil {
		return w.err
	}
	if w.done {
		return errors.New("backup: append after close")
	}
	if b.rows == 0 {
		return nil
	}
	if err := b.Seal(); err != nil {
		return err
	}
	if err := w.writeMember(b.member.Bytes()); err != nil {
		return w.fail(fmt.Errorf("write backup: %w", err))
	}
	w.sum.Write(b.lines)
	w.rows += int64(b.rows)
	return nil
}

// Sync makes every appended row durable: the rows Append took are written as a batch, then
// the file is fsynced. The purge calls it before each batch's DELETE commits.
func (w *Writer) Sync() error {
	if w.err != nil {
		return w.err
	}
	if w.pending.rows > 0 {
		if err := w.AppendBatch(w.pending); err != nil {
			return err
		}
		w.pending.Reset()
	}
	if err := w.syncFile(); err != nil {
		return w.fail(fmt.Errorf("sync backup file: %w", err))
	}
	w.pub.publish(w.cw.n, false)
	return nil
}

// Close writes the trailer, syncs and closes the file. After an earlier write or sync error it
// writes no trailer (the file reads as truncated: every complete batch, no claim of more) and
// returns that error.
func (w *Writer) Close() (Summary, error) {
	if w.done {
		return Summary{}, errors.New("backup: already closed")
	}
	err := w.err
	if err == nil && w.pending.rows > 0 {
		err = w.AppendBatch(w.pending)
		w.pending.Reset()
	}
	w.done = true
	s := Summary{Path: w.f.Name(), Rows: w.rows, SHA256: hex.EncodeToString(w.sum.Sum(nil))}
	if err == nil {
		var line, member []byte
		if line, err = json.Marshal(Trailer{Type: trailerType, Rows: s.Rows, SHA256: s.SHA256}); err == nil {
			if member, err = gzipMember(append(line, '\n')); err == nil {
				err = w.writeMember(member)
			}
		}
		if err != nil {
			err = w.fail(err)
		}
	}
	if err == nil {
		err = w.syncFile()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.pub.publish(w.cw.n, true)
	if err != nil {
		return s, fmt.Errorf("finish backup file %s (left without its trailer: restore needs --accept-truncated): %w", s.Path, err)
	}
	return s, nil
}
