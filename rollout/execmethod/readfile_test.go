package execmethod

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ReadFile reads the node's Tomcat config: a FIFO or device there is refused at once, and a
// missing file still says so (tomcat.Detect relies on it).
func TestReadFileRefusesPipesAndDevices(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "server.xml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	r := &Restarter{Command: "true"}
	for _, tc := range []struct{ path, saying string }{{fifo, "named pipe"}, {"/dev/zero", "character device"}} {
		done := make(chan error, 1)
		go func() { _, err := r.ReadFile(context.Background(), tc.path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tc.saying) {
				t.Errorf("ReadFile(%s) = %v, want an error saying %q", tc.path, err, tc.saying)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("ReadFile(%s) still running after 5s", tc.path)
		}
	}
	if _, err := r.ReadFile(context.Background(), filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
}
