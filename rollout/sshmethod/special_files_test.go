package sshmethod

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reauth/reauth"
)

// A known_hosts or key file that is a FIFO or a device is refused at once (exit 4): opened as
// is, a FIFO blocks until a writer comes, and /dev/zero is read until memory runs out.
func TestPipesAndDevicesRefused(t *testing.T) {
	s, host, port := server(t)
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, knownHosts, key, saying string }{
		{"known_hosts is a FIFO", fifo, s.KeyFile, "named pipe"},
		{"key file is a FIFO", s.KnownHosts, fifo, "named pipe"},
		{"key file is /dev/zero", s.KnownHosts, "/dev/zero", "character device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := New(Config{Host: host, Port: port, User: s.User, KeyFiles: []string{tc.key}, KnownHosts: tc.knownHosts,
				Command: "true", Getenv: noEnv})
			defer r.Close()
			done := make(chan error, 1)
			go func() { done <- r.Preflight(context.Background()) }()
			select {
			case err := <-done:
				if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), tc.saying) {
					t.Fatalf("Preflight = %v (exit %d), want a refusal saying %q", err, reauth.CodeOf(err), tc.saying)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Preflight still running after 10s")
			}
		})
	}
}
