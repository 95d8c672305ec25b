package cookiefile

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A cookie file that is a FIFO or a device is refused at once, not waited on or read forever.
func TestLoadRefusesPipesAndDevices(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "cookies.txt")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, saying string }{{fifo, "named pipe"}, {"/dev/zero", "character device"}} {
		done := make(chan error, 1)
		go func() { _, err := Load(tc.path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tc.saying) {
				t.Errorf("Load(%s) = %v, want an error saying %q", tc.path, err, tc.saying)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Load(%s) still running after 5s", tc.path)
		}
	}
}
