package backup

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/reauth/reauth"
)

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ErrCorrupt is wrapped by every error about a backup file's content (as opposed to I/O).
var ErrCorrupt = errors.New("backup file is corrupt")

// Reader reads a backup file row by row, checking the trailer at the end.
type Reader struct {
	path      string
	closer    io.Closer
	br        *bufio.Reader
	m         Manifest
	sum       hash.Hash
	rows      int64
	trailer   *Trailer
	truncated bool
	eof       bool
	// hashOnly skips decoding rows (Verify): the sha256 over the lines already proves they are
	// the bytes the writer wrote, and decoding is most of the cost of reading a large file.
	hashOnly bool
}

// Open opens a backup file and reads its manifest.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open backup file: %w", err)
	}
	r, err := NewReader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReader reads a backup from src (name is used in messages) and reads its manifest.
func NewReader(src io.Reader, name string) (*Reader, error) {
	r := &Reader{path: name, sum: sha256.New()}
	gz, err := gzip.NewReader(src)
	if err != nil {
		return nil, corrupt(name, "not a gzip file (%v)", err)
	}
	r.br = bufio.NewReaderSize(gz, 64<<10)
	line, complete, err := r.readLine()
	if err != nil {
		return nil, err
	}
	if !complete {
		return nil, corrupt(name, "no complete manifest line")
	}
	if err := json.Unmarshal(line, &r.m); err != nil || r.m.Type != manifestType {
		return nil, corrupt(name, "the first line is not a reauth backup manifest")
	}
	if r.m.Format != FormatVersion {
		return nil, reauth.Refused("use the reauth version that wrote it", "backup %s has format %d; this reauth reads format %d",
			name, r.m.Format, FormatVersion)
	}
	if len(r.m.Columns) == 0 {
		return nil, corrupt(name, "the manifest lists no columns")
	}
	return r, nil
}

func corrupt(path, format string, args ...any) error {
	return &reauth.Error{Code: reauth.ExitFailed, Op: "backup " + path,
		Err: fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))}
}

// readLine returns the next line without its "\n" (line[:len(line)+1] is the line with it); it
// is valid until the next read. complete is false for a final partial line or end of data (the
// stream was cut: a crash while writing).
func (r *Reader) readLine() (line []byte, complete bool, err error) {
	b, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		// A line longer than the buffer: gather it.
		long := append([]byte(nil), b...)
		for errors.Is(err, bufio.ErrBufferFull) {
			b, err = r.br.ReadSlice('\n')
			long = append(long, b...)
		}
		b = long
	}
	switch {
	case err == nil:
		return b[:len(b)-1], true, nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return nil, false, nil
	default:
		return nil, false, corrupt(r.path, "%v", err)
	}
}

// Manifest is the file's first line.
func (r *Reader) Manifest() Manifest { return r.m }

// Rows is the number of rows read so far.
func (r *Reader) Rows() int64 { return r.rows }

// SHA256 is the hex sha256 of the row lines read so far.
func (r *Reader) SHA256() string { return hex.EncodeToString(r.sum.Sum(nil)) }

// Truncated reports, after Next returned io.EOF, that the file had no trailer (the writer
// crashed); every complete row was still returned.
func (r *Reader) Truncated() bool { return r.truncated }

// Trailer is the checked trailer, after Next returned io.EOF (nil when truncated).
func (r *Reader) Trailer() *Trailer { return r.trailer }

// Close closes the file (a no-op for NewReader's source).
func (r *Reader) Close() error {
	if r.closer == nil {
		return nil
	}
	return r.closer.Close()
}

// Next returns the next row's values in manifest column order (typed as Append takes them), or
// io.EOF after the last row. A trailer that disagrees with the rows read is an ErrCorrupt error.
func (r *Reader) Next() ([]any, error) {
	if r.eof {
		return nil, io.EOF
	}
	line, complete, err := r.readLine()
	if err != nil {
		return nil, err
	}
	if !complete {
		r.eof, r.truncated = true, true
		return nil, io.EOF
	}
	if t, ok := r.asTrailer(line); ok {
		r.eof = true
		if t.Rows != r.rows || t.SHA256 != r.SHA256() {
			return nil, corrupt(r.path, "trailer says %d rows (sha256 %.12s…), the file holds %d rows (sha256 %.12s…)",
				t.Rows, t.SHA256, r.rows, r.SHA256())
		}
		// The gzip stream must end cleanly right after the trailer: io.EOF is only returned once
		// gzip has checked its CRC and length, so a cut or edited file is caught here.
		if _, err := r.br.ReadByte(); err != io.EOF {
			return nil, corrupt(r.path, "data after the trailer, or the gzip stream does not end cleanly (%v)", err)
		}
		r.trailer = &t
		return nil, io.EOF
	}
	var vals []any
	if !r.hashOnly {
		if vals, err = r.decodeRow(line); err != nil {
			return nil, corrupt(r.path, "row %d: %v", r.rows+1, err)
		}
	}
	r.sum.Write(line[:len(line)+1])
	r.rows++
	return vals, nil
}

func (r *Reader) asTrailer(line []byte) (Trailer, bool) {
	if !bytes.Contains(line, []byte(trailerType)) {
		return Trailer{}, false
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal(line, &raw) != nil || len(raw) != 3 {
		return Trailer{}, false
	}
	var t Trailer
	if json.Unmarshal(line, &t) != nil || t.Type != trailerType {
		return Trailer{}, false
	}
	return t, true
}

func (r *Reader) decodeRow(line []byte) ([]any, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil {
		return nil, err
	}
	if len(raw) != len(r.m.Columns) {
		return nil, fmt.Errorf("has %d values, the manifest lists %d columns", len(raw), len(r.m.Columns))
	}
	vals := make([]any, len(r.m.Columns))
	for i, c := range r.m.Columns {
		v, ok := raw[c.Name]
		if !ok {
			return nil, fmt.Errorf("column %s missing", c.Name)
		}
		x, err := decodeValue(c.Kind, v)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		vals[i] = x
	}
	return vals, nil
}

func decodeValue(k Kind, v json.RawMessage) (any, error) {
	if string(v) == "null" {
		return nil, nil
	}
	switch k {
	case KindInt:
		return strconv.ParseInt(string(v), 10, 64)
	case KindFloat:
		return strconv.ParseFloat(string(v), 64)
	case KindBool:
		var b bool
		err := json.Unmarshal(v, &b)
		return b, err
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, err
	}
	switch k {
	case KindString:
		return s, nil
	case KindTime:
		return time.Parse(time.RFC3339Nano, s)
	case KindBytes:
		return base64.StdEncoding.DecodeString(s)
	}
	return nil, fmt.Errorf("unknown kind %q", k)
}

// Verify reads the whole file and checks its trailer (row count and sha256). A file without a
// trailer fails verification (restore can still read it).
func Verify(path string) (Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return Summary{}, fmt.Errorf("open backup file: %w", err)
	}
	defer f.Close()
	return verifyFrom(f, path)
}

// verifyFrom is Verify over src (the file, or a Follower's view of it while it is written).
func verifyFrom(src io.Reader, path string) (Summary, error) {
	r, err := NewReader(src, path)
	if err != nil {
		return Summary{}, err
	}
	r.hashOnly = true
	for {
		if _, err := r.Next(); err == io.EOF {
			break
		} else if err != nil {
			return Summary{}, err
		}
	}
	if r.Truncated() {
		return Summary{Path: path, Rows: r.rows, SHA256: r.SHA256()}, &reauth.Error{Code: reauth.ExitFailed,
			Op:   "backup " + path,
			Err:  fmt.Errorf("%w: no trailer after %d rows (the writer stopped before finishing the file)", ErrCorrupt, r.rows),
			Hint: "restore can still read every complete row of it: reauth restore TARGET " + path}
	}
	return Summary{Path: path, Rows: r.rows, SHA256: r.SHA256()}, nil
}
