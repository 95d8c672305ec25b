package atlassian

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A config file that is a FIFO or a device is refused at once: opening a FIFO would wait for a
// writer forever, and /dev/zero would be read until memory runs out.
func TestDiscoverRefusesPipesAndDevices(t *testing.T) {
	fifoHome := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(fifoHome, "dbconfig.xml"), 0o600); err != nil {
		t.Fatal(err)
	}
	zeroHome := t.TempDir()
	if err := os.Symlink("/dev/zero", filepath.Join(zeroHome, "dbconfig.xml")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ home, saying string }{{fifoHome, "named pipe"}, {zeroHome, "character device"}} {
		done := make(chan error, 1)
		go func() {
			_, err := Discover(DiscoverOptions{Product: Jira, Home: tc.home})
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tc.saying) || !strings.Contains(err.Error(), "dbconfig.xml") {
				t.Errorf("Discover(%s) = %v, want an error saying %q", tc.home, err, tc.saying)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Discover on a %s config still running after 5s", tc.saying)
		}
	}
}
