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

// ErrTruncated is wrapped (with ErrCorrupt) by the error for a file that ends before its
// trailer: the purge that wrote it stopped (a crash, a full disk, a killed process).
var ErrTruncated = errors.New("backup file has no trailer")

// maxMember bounds the decompressed size of one gzip member (one batch of rows): a batch holds
// at most a few tens of MiB; a larger member is a hostile file, not a backup.
const maxMember = 256 << 20

// Reader reads a backup file row by row, checking the trailer at the end. It reads the file one
// batch (gzip member) at a time and returns a batch's rows only once the whole batch is read and
// its checksum (gzip CRC, or the encryption's authentication) holds: a file cut inside a batch
// yields every complete batch before it, and reports Truncated.
type Reader struct {
	path      string
	closer    io.Closer
	br        *bufio.Reader
	src       memberSource
	m         Manifest
	sum       hash.Hash
	rows      int64
	lines     []byte // what is left of the current batch
	trailer   *Trailer
	truncated bool
	eof       bool
	// hashOnly skips decoding rows (Verify): the sha256 over the lines already proves they are
	// the bytes the writer wrote, and decoding is most of the cost of reading a large file.
	hashOnly bool
}

// memberSource yields a backup's batches, decompressed: io.EOF at a clean end of the file,
// errCut when the file ends inside one (its rows are not returned).
type memberSource interface {
	next() ([]byte, error)
}

var errCut = errors.New("file ends inside a batch")

// gzipMembers reads a sequence of gzip members from br, one at a time.
type gzipMembers struct {
	path string
	br   *bufio.Reader
	gz   *gzip.Reader
}

func (g *gzipMembers) next() ([]byte, error) {
	var err error
	if g.gz == nil {
		g.gz, err = gzip.NewReader(g.br)
	} else {
		err = g.gz.Reset(g.br)
	}
	switch {
	case err == io.EOF:
		return nil, io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, errCut
	case err != nil:
		return nil, corrupt(g.path, "not gzip data where a batch should start (%v)", err)
	}
	g.gz.Multistream(false)
	return readMember(g.path, g.gz)
}

// readMember reads one decompressed batch, bounded by maxMember.
func readMember(path string, r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxMember+1))
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, errCut
	case err != nil:
		return nil, corrupt(path, "a batch does not decompress (%v)", err)
	case len(b) > maxMember:
		return nil, corrupt(path, "a batch is larger than %d MiB", maxMember>>20)
	}
	return b, nil
}

// Open opens a backup file and reads its manifest. An encrypted backup's rows need identities
// (OpenWith); its manifest does not.
func Open(path string) (*Reader, error) { return OpenWith(path, nil) }

// OpenWith opens a backup file with the identities that decrypt it (none for a clear backup).
func OpenWith(path string, ids []Identity) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open backup file: %w", err)
	}
	r, err := newReader(f, path, ids)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReader reads a clear backup from src (name is used in messages) and reads its manifest.
func NewReader(src io.Reader, name string) (*Reader, error) { return newReader(src, name, nil) }

func newReader(src io.Reader, name string, ids []Identity) (*Reader, error) {
	r := &Reader{path: name, sum: sha256.New()}
	r.br = bufio.NewReaderSize(src, 64<<10)
	r.src = &gzipMembers{path: name, br: r.br}
	if magic, _ := r.br.Peek(2); string(magic) != "\x1f\x8b" {
		return nil, corrupt(name, "not a gzip file")
	}
	first, err := r.src.next()
	if err == io.EOF || errors.Is(err, errCut) {
		return nil, corrupt(name, "no complete manifest")
	}
	if err != nil {
		if errors.Is(err, ErrCorrupt) {
			return nil, corrupt(name, "not a gzip file")
		}
		return nil, err
	}
	line, rest, ok := bytes.Cut(first, []byte("\n"))
	if !ok {
		return nil, corrupt(name, "no complete manifest line")
	}
	if err := json.Unmarshal(line, &r.m); err != nil || r.m.Type != manifestType {
		return nil, corrupt(name, "the first line is not a reauth backup manifest")
	}
	if r.m.Format < 1 || r.m.Format > FormatVersion {
		return nil, reauth.Refused("use the reauth version that wrote it", "backup %s has format %d; this reauth reads formats 1 to %d",
			name, r.m.Format, FormatVersion)
	}
	if len(r.m.Columns) == 0 {
		return nil, corrupt(name, "the manifest lists no columns")
	}
	if r.m.Format >= 2 {
		// The checksum covers the manifest: an edited cut-off or filter does not verify.
		r.sum.Write(first[:len(line)+1])
	}
	r.lines = rest
	if r.m.Encryption != "" {
		if r.m.Encryption != encryptionAge || len(rest) > 0 {
			return nil, corrupt(name, "unknown encryption %q", r.m.Encryption)
		}
		r.src = &ageFrames{path: name, br: r.br, ids: ids, manifest: append([]byte(nil), line...)}
	}
	return r, nil
}

func corrupt(path, format string, args ...any) error {
	return &reauth.Error{Code: reauth.ExitFailed, Op: "backup " + path,
		Err: fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))}
}

// Manifest is the file's first line.
func (r *Reader) Manifest() Manifest { return r.m }

// Rows is the number of rows read so far.
func (r *Reader) Rows() int64 { return r.rows }

// SHA256 is the hex sha256 of the lines read so far (format 2: the manifest's, then the rows').
func (r *Reader) SHA256() string { return hex.EncodeToString(r.sum.Sum(nil)) }

// Truncated reports, after Next returned io.EOF, that the file had no trailer (the writer
// stopped); every row of every complete batch was still returned.
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
	for len(r.lines) == 0 {
		if r.eof {
			return nil, io.EOF
		}
		b, err := r.src.next()
		if err == io.EOF || errors.Is(err, errCut) {
			r.eof, r.truncated = true, true
			return nil, io.EOF
		}
		if err != nil {
			return nil, err
		}
		if len(b) > 0 && b[len(b)-1] != '\n' {
			return nil, corrupt(r.path, "a batch does not end with a complete line")
		}
		r.lines = b
	}
	line, rest, _ := bytes.Cut(r.lines, []byte("\n"))
	full := r.lines[:len(line)+1]
	r.lines = rest
	if t, ok := r.asTrailer(line); ok {
		r.eof = true
		if t.Rows != r.rows || t.SHA256 != r.SHA256() {
			return nil, corrupt(r.path, "trailer says %d rows (sha256 %.12s…), the file holds %d rows (sha256 %.12s…)",
				t.Rows, t.SHA256, r.rows, r.SHA256())
		}
		// Nothing may follow the trailer: not a line, not a batch, not a byte.
		if len(r.lines) > 0 {
			return nil, corrupt(r.path, "data after the trailer")
		}
		if _, err := r.src.next(); err != io.EOF {
			return nil, corrupt(r.path, "data after the trailer, or the file does not end cleanly (%v)", err)
		}
		r.trailer = &t
		return nil, io.EOF
	}
	var vals []any
	if !r.hashOnly {
		var err error
		if vals, err = r.decodeRow(line); err != nil {
			return nil, corrupt(r.path, "row %d: %v", r.rows+1, err)
		}
	}
	r.sum.Write(full)
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
		return ParseTime(s)
	case KindBytes:
		return base64.StdEncoding.DecodeString(s)
	}
	return nil, fmt.Errorf("unknown kind %q", k)
}

// Verify reads the whole file and checks its trailer (row count and sha256). A file without a
// trailer fails verification with ErrTruncated. An encrypted file needs VerifyWith.
func Verify(path string) (Summary, error) { return VerifyWith(path, nil) }

// VerifyWith is Verify with the identities that decrypt an encrypted file: every frame is
// decrypted and authenticated, the manifest too.
func VerifyWith(path string, ids []Identity) (Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return Summary{}, fmt.Errorf("open backup file: %w", err)
	}
	defer f.Close()
	return verifyFrom(f, path, ids)
}

// verifyFrom is Verify over src (the file, or a Follower's view of it while it is written).
func verifyFrom(src io.Reader, path string, ids []Identity) (Summary, error) {
	r, err := newReader(src, path, ids)
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
			Err:  fmt.Errorf("%w: %w after %d rows (the writer stopped before finishing the file)", ErrCorrupt, ErrTruncated, r.rows),
			Hint: "restore can still put back every complete batch of it: reauth restore --accept-truncated TARGET " + path}
	}
	return Summary{Path: path, Rows: r.rows, SHA256: r.SHA256()}, nil
}
