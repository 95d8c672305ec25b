package backup

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func textCols() []Column {
	return []Column{{"id", "numeric", KindInt}, {"created", "timestamp with time zone", KindTime}, {"token", "varchar", KindString}}
}

// TextRow writes the line Row writes for the same values, and refuses (changing nothing) what
// it does not convert exactly.
func TestTextRow(t *testing.T) {
	ts := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04:05.999999999", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		text []string // id, created, token; "NULL" is nil
		want []any
	}{
		{[]string{"1", "2025-03-01 12:00:00+00", "abc"}, []any{int64(1), ts("2025-03-01 12:00:00"), "abc"}},
		{[]string{"-9223372036854775808", "2025-03-01 11:59:59.123456+00", `q" b\ t` + "\t\n\x01 ünï"}, []any{int64(-9223372036854775808), ts("2025-03-01 11:59:59.123456"), `q" b\ t` + "\t\n\x01 ünï"}},
		{[]string{"9223372036854775807", "9999-12-31 23:59:59.999999999", ""}, []any{int64(9223372036854775807), ts("9999-12-31 23:59:59.999999999"), ""}},
		{[]string{"0", "1970-01-01T00:00:00Z", "NULL"}, []any{int64(0), time.Unix(0, 0).UTC(), nil}},
		{[]string{"42", "NULL", "bad \xff utf8"}, []any{int64(42), nil, "bad \xff utf8"}},
		{[]string{"7", "2024-02-29 00:00:00", "leap"}, []any{int64(7), ts("2024-02-29 00:00:00"), "leap"}},
		{[]string{"8", "2000-02-29 00:00:00", "leap"}, []any{int64(8), ts("2000-02-29 00:00:00"), "leap"}},
	} {
		vals := make([][]byte, len(tc.text))
		for i, s := range tc.text {
			if s != "NULL" {
				vals[i] = []byte(s)
			}
		}
		b, want := newBatch(textCols()), newBatch(textCols())
		if err := b.TextRow(vals); err != nil {
			t.Fatalf("%q: %v", tc.text, err)
		}
		if err := want.Row(tc.want); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.lines, want.lines) {
			t.Errorf("%q:\n text %s\n  row %s", tc.text, b.lines, want.lines)
		}
	}
	for _, bad := range [][]string{
		{"9223372036854775808", "2025-03-01 12:00:00+00", "x"}, // above int64
		{"1.5", "2025-03-01 12:00:00+00", "x"},
		{"007", "2025-03-01 12:00:00+00", "x"},
		{"", "2025-03-01 12:00:00+00", "x"},
		{"1", "infinity", "x"},
		{"1", "0099-01-01 00:00:00+00 BC", "x"},
		{"1", "12000-01-01 00:00:00+00", "x"},
		{"1", "2025-03-01 12:00:00+01", "x"}, // not UTC
		{"1", "2025-03-01", "x"},
		{"1", "2025-13-01 12:00:00", "x"},
		{"1", "2025-02-29 12:00:00", "x"}, // not a leap year
		{"1", "2025-04-31 12:00:00", "x"},
		{"1", "2025-03-01 12:00:00.", "x"},
		{"1", "2025-03-01 12:00:00.1234567890", "x"},
	} {
		b := newBatch(textCols())
		if err := b.TextRow([][]byte{[]byte("5"), nil, []byte("kept")}); err != nil {
			t.Fatal(err)
		}
		before := append([]byte(nil), b.lines...)
		vals := [][]byte{[]byte(bad[0]), []byte(bad[1]), []byte(bad[2])}
		if err := b.TextRow(vals); !errors.Is(err, ErrNotText) {
			t.Errorf("%q: err %v, want ErrNotText", bad, err)
		}
		if !bytes.Equal(b.lines, before) || b.Rows() != 1 {
			t.Errorf("%q: a refused row changed the batch: %s", bad, b.lines)
		}
	}
}

// A file written as batches, each its own gzip member, reads back as one stream; cut inside
// its last member (a crash while writing it), every earlier batch still reads back.
func TestBatchesAreGzipMembers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b")
	w, err := Create(path, testManifest())
	if err != nil {
		t.Fatal(err)
	}
	rows := testRows()
	var sizes []int64
	for _, r := range rows {
		b := w.NewBatch()
		if err := b.Row(r); err != nil {
			t.Fatal(err)
		}
		if err := w.AppendBatch(b); err != nil {
			t.Fatal(err)
		}
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, w.cw.n)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, got := readAll(t, path); !reflect.DeepEqual(got, rows) {
		t.Fatalf("read back %v, want %v", got, rows)
	}
	// Cut in the middle of the last batch's member: the first two rows, reported truncated.
	cut := filepath.Join(t.TempDir(), "cut")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cut, data[:(sizes[1]+sizes[2])/2], 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Open(cut)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var n int
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 || !r.Truncated() {
		t.Fatalf("cut file: %d rows, truncated %v; want 2 rows, truncated", n, r.Truncated())
	}
}

// FuzzTextRow: any text either is refused with ErrNotText and leaves the batch as it was, or
// gives a line the reader decodes to the same integer, instant and (valid UTF-8) string.
func FuzzTextRow(f *testing.F) {
	for _, s := range [][3]string{{"1", "2025-03-01 12:00:00+00", "abc"}, {"-42", "2025-03-01 11:59:59.123456", "ünï\t\""},
		{"9223372036854775807", "9999-12-31T23:59:59.999999999Z", "\xff"}, {"1.5", "infinity", ""}, {"007", "2025-02-30 24:00:00+00:00", "x"}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, id, created, token string) {
		b := newBatch(textCols())
		err := b.TextRow([][]byte{[]byte(id), []byte(created), []byte(token)})
		if err != nil {
			if !errors.Is(err, ErrNotText) || len(b.lines) != 0 || b.Rows() != 0 {
				t.Fatalf("refused with %v, batch %q", err, b.lines)
			}
			return
		}
		r := &Reader{m: Manifest{Columns: textCols()}}
		vals, err := r.decodeRow(bytes.TrimSuffix(b.lines, []byte("\n")))
		if err != nil {
			t.Fatalf("line %s does not decode: %v", b.lines, err)
		}
		if want, err := strconv.ParseInt(id, 10, 64); err != nil || vals[0] != want {
			t.Fatalf("id %q read back as %v", id, vals[0])
		}
		want, err := time.Parse("2006-01-02 15:04:05.999999999", strings.NewReplacer("T", " ", "+00:00", "", "+00", "", "Z", "").Replace(created))
		if err != nil || !want.Equal(vals[1].(time.Time)) {
			t.Fatalf("time %q read back as %v (%v)", created, vals[1], err)
		}
		if utf8.ValidString(token) && vals[2] != token {
			t.Fatalf("token %q read back as %q", token, vals[2])
		}
	})
}
