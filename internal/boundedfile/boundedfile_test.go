package boundedfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reauth/reauth/internal/boundedfile"
)

// within runs f and fails the test if it has not returned after d: a FIFO or /dev/zero must be
// refused at once, not read until memory runs out.
func within(t *testing.T, d time.Duration, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("still reading after %v", d)
		return nil
	}
}

func TestReadRefusesFIFOAndDevices(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, saying string }{
		{fifo, "named pipe"},
		{"/dev/zero", "character device"},
		{t.TempDir(), "is a directory"},
	} {
		err := within(t, 5*time.Second, func() error { _, err := boundedfile.Read(tc.path, 1<<20); return err })
		if err == nil || !strings.Contains(err.Error(), tc.saying) {
			t.Errorf("Read(%s) = %v, want an error saying %q", tc.path, err, tc.saying)
		}
		if tc.saying != "is a directory" && !errors.Is(err, boundedfile.ErrNotRegular) {
			t.Errorf("Read(%s): %v is not ErrNotRegular", tc.path, err)
		}
	}
}

func TestReadLimit(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := boundedfile.Read(p, 10); err != nil || string(b) != "0123456789" {
		t.Fatalf("Read at the limit = %q, %v", b, err)
	}
	if _, err := boundedfile.Read(p, 9); !errors.Is(err, boundedfile.ErrTooLarge) || !strings.Contains(err.Error(), "9 bytes") {
		t.Fatalf("Read over the limit = %v, want ErrTooLarge naming the limit", err)
	}
	if _, err := boundedfile.Read(filepath.Join(t.TempDir(), "missing"), 9); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v, want ErrNotExist", err)
	}
}

// The limit counts bytes read, not the size Stat reported when the file was opened.
func TestReadAllDoesNotTrustSize(t *testing.T) {
	if _, err := boundedfile.ReadAll(strings.NewReader(strings.Repeat("x", 100)), "r", 50); !errors.Is(err, boundedfile.ErrTooLarge) {
		t.Fatalf("ReadAll = %v, want ErrTooLarge", err)
	}
}
