package inventory

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reauth/reauth"
)

// returnsWithin fails the test when f is still running after 5 s: a FIFO must be refused without
// waiting for a writer, and /dev/zero without being read until memory runs out.
func returnsWithin(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: still reading after 5s", what)
		return nil
	}
}

func TestPipesAndDevicesAreRefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, saying string }{{fifo, "named pipe"}, {"/dev/zero", "character device"}} {
		err := returnsWithin(t, "Load "+tc.path, func() error { _, err := Load(tc.path); return err })
		if reauth.CodeOf(err) != reauth.ExitUsage || !strings.Contains(err.Error(), tc.saying) {
			t.Errorf("Load(%s) = %v (exit %d), want exit 2 saying %q", tc.path, err, reauth.CodeOf(err), tc.saying)
		}
		err = returnsWithin(t, "secret file "+tc.path, func() error {
			_, err := SecretRef{File: tc.path, Line: 3}.Resolve(nil)
			return err
		})
		if reauth.CodeOf(err) != reauth.ExitUsage || !strings.Contains(err.Error(), tc.saying) || !strings.Contains(err.Error(), "line 3") {
			t.Errorf("secret file %s = %v, want exit 2 saying %q at line 3", tc.path, err, tc.saying)
		}
	}
}
