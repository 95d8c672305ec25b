package backup

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A failed fsync must not be followed by a trailer: the file would claim rows the disk may not hold.
func TestWriterErrorIsSticky(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.jsonl.gz")
	w, err := Create(path, testManifest())
	if err != nil {
		t.Fatal(err)
	}
	rows := testRows()
	if err := w.Append(rows[0]); err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	real := w.syncFile
	w.syncFile = func() error { return errors.New("EIO") }
	w.Append(rows[1])
	if err := w.Sync(); err == nil {
		t.Fatal("sync did not fail")
	}
	w.syncFile = real // the disk "recovers": a later fsync would succeed
	if err := w.Append(rows[2]); err == nil {
		t.Error("append after a failed sync succeeded")
	}
	if err := w.Sync(); err == nil {
		t.Error("sync after a failed sync succeeded")
	}
	if _, err := w.Close(); err == nil {
		t.Fatal("Close after a failed sync reported success")
	}
	_, err = Verify(path)
	if !errors.Is(err, ErrTruncated) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("verify: %v, want ErrTruncated (no trailer after a failed write)", err)
	}
}

// Format 2: the trailer's checksum covers the manifest, so an edited cut-off does not verify.
func TestManifestCoveredByChecksum(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "b.jsonl.gz")
	writeFile(t, path, testRows(), true)
	plain := gunzip(t, mustRead(t, path))
	edited := bytes.Replace(plain, []byte(`"cutoff_id":42`), []byte(`"cutoff_id":4200`), 1)
	if bytes.Equal(edited, plain) {
		t.Fatal("test did not edit the manifest")
	}
	p := filepath.Join(dir, "edited")
	if err := os.WriteFile(p, gz(t, edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(p); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("verify of a file with an edited manifest: %v, want ErrCorrupt", err)
	}
}

// A file cut inside a batch yields the complete batches before it, none of the cut one's rows.
func TestCutInsideBatchDropsThatBatch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "b.jsonl.gz")
	w, err := Create(path, testManifest())
	if err != nil {
		t.Fatal(err)
	}
	rows := testRows()
	w.Append(rows[0])
	w.Sync()
	size := w.cw.n
	w.Append(rows[1])
	w.Append(rows[2])
	w.Sync()
	w.f.Close()
	full := mustRead(t, path)
	for cut := size + 1; cut < int64(len(full)); cut++ {
		p := filepath.Join(dir, "cut")
		os.Remove(p)
		if err := os.WriteFile(p, full[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		r, got := readAll(t, p)
		if !r.Truncated() || len(got) != 1 {
			t.Fatalf("cut at %d of %d: %d rows, truncated %v; want 1 row (the first batch) and truncated", cut, len(full), len(got), r.Truncated())
		}
	}
	if _, err := Verify(path); !errors.Is(err, ErrTruncated) {
		t.Fatalf("verify: %v, want ErrTruncated", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
