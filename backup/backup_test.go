package backup

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/reauth/reauth"
)

func testManifest() Manifest {
	return Manifest{Product: "jira", Table: `"public"."remembermetoken"`, IDColumn: "id",
		Columns: []Column{{"id", "numeric", KindInt}, {"created", "timestamp with time zone", KindTime},
			{"token", "character varying", KindString}, {"claimed", "boolean", KindBool},
			{"score", "double precision", KindFloat}, {"raw", "bytea", KindBytes}},
		Database: Database{Engine: "postgres", Host: "127.0.0.1", Port: 5433, Name: "jira", User: "jira"},
		CutoffID: 42, ReauthVersion: "test", Started: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)}
}

func testRows() [][]any {
	ts := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	return [][]any{
		{int64(1), ts, "abc", true, 1.5, []byte{0, 1, 2}},
		{int64(2), nil, "quote\" back\\ ctl\x01 ünï", false, nil, nil},
		{int64(9007199254740993), ts.Add(time.Hour), "", nil, -0.25, []byte{}},
	}
}

func writeFile(t *testing.T, path string, rows [][]any, close bool) Summary {
	t.Helper()
	w, err := Create(path, testManifest())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if !close {
		w.f.Close() // a crash: no trailer, gzip stream not finished
		return Summary{}
	}
	s, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readAll(t *testing.T, path string) (*Reader, [][]any) {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out [][]any
	for {
		v, err := r.Next()
		if err == io.EOF {
			return r, out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
}

func TestRoundTripTypedValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.jsonl.gz")
	s := writeFile(t, path, testRows(), true)
	if s.Rows != 3 || len(s.SHA256) != 64 {
		t.Fatalf("summary %+v", s)
	}
	r, got := readAll(t, path)
	want := testRows()
	want[2][5] = []byte{} // an empty []byte reads back as an empty slice
	for i := range want {
		for j := range want[i] {
			if tm, ok := want[i][j].(time.Time); ok {
				if !tm.Equal(got[i][j].(time.Time)) {
					t.Errorf("row %d col %d: %v != %v", i, j, got[i][j], tm)
				}
				continue
			}
			if !reflect.DeepEqual(got[i][j], want[i][j]) {
				t.Errorf("row %d col %d: got %#v want %#v", i, j, got[i][j], want[i][j])
			}
		}
	}
	if r.Truncated() || r.Trailer() == nil || r.Trailer().SHA256 != s.SHA256 {
		t.Fatalf("trailer %+v truncated %v", r.Trailer(), r.Truncated())
	}
	m := r.Manifest()
	if m.CutoffID != 42 || m.Product != "jira" || m.Format != FormatVersion || len(m.Columns) != 6 {
		t.Fatalf("manifest %+v", m)
	}
	v, err := Verify(path)
	if err != nil || v.Rows != 3 || v.SHA256 != s.SHA256 {
		t.Fatalf("verify %+v %v", v, err)
	}
}

func TestModeAndNeverOverwritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.jsonl.gz")
	writeFile(t, path, testRows(), true)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	before, _ := os.ReadFile(path)
	_, err = Create(path, testManifest())
	if reauth.CodeOf(err) != reauth.ExitRefused {
		t.Fatalf("second Create: %v (code %d), want a refusal", err, reauth.CodeOf(err))
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("existing backup was modified")
	}
}

func TestCrashLeavesSyncedRowsReadable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.jsonl.gz")
	writeFile(t, path, testRows(), false)
	r, rows := readAll(t, path)
	if !r.Truncated() || len(rows) != 3 {
		t.Fatalf("truncated=%v rows=%d, want true and 3", r.Truncated(), len(rows))
	}
	if _, err := Verify(path); !errors.Is(err, ErrCorrupt) || reauth.HintOf(err) == "" {
		t.Fatalf("verify of a file without trailer: %v", err)
	}
}

func TestTruncatedOrTamperedDetected(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "b.jsonl.gz")
	writeFile(t, path, testRows(), true)
	full, _ := os.ReadFile(path)
	plain := gunzip(t, full)
	lines := bytes.SplitAfter(plain, []byte("\n"))
	cases := map[string][]byte{
		"cut bytes":       full[:len(full)-12],
		"row removed":     gz(t, bytes.Join(append(append([][]byte{}, lines[0], lines[1]), lines[3:]...), nil)),
		"row edited":      gz(t, bytes.Replace(plain, []byte(`"abc"`), []byte(`"abd"`), 1)),
		"trailer dropped": gz(t, bytes.Join(lines[:4], nil)),
		"after trailer":   gz(t, append(append([]byte{}, plain...), lines[1]...)),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Verify(p); err == nil {
				t.Fatal("verify accepted a damaged file")
			}
		})
	}
}

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func gunzip(t *testing.T, b []byte) []byte {
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzReader: whatever the bytes (gzip of arbitrary lines, or raw), reading never panics.
func FuzzReader(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "seed.jsonl.gz")
	w, _ := Create(path, testManifest())
	for _, r := range testRows() {
		w.Append(r)
	}
	w.Close()
	seed, _ := os.ReadFile(path)
	r, _ := gzip.NewReader(bytes.NewReader(seed))
	plain, _ := io.ReadAll(r)
	f.Add(plain, false)
	f.Add(seed, true)
	f.Add([]byte(`{"type":"reauth-backup","format":1,"columns":[{"name":"id","kind":"int"}]}`+"\n"+`{"id":1e99}`+"\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		if !raw {
			// Stored blocks: compressing (instrumented) per input made the fuzzer crawl.
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.NoCompression)
			zw.Write(data)
			zw.Close()
			data = buf.Bytes()
		}
		rd, err := NewReader(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		for i := 0; i < 10000; i++ {
			if _, err := rd.Next(); err != nil {
				return
			}
		}
	})
}
