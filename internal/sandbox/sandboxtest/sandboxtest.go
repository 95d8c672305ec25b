// Package sandboxtest starts sandbox clusters for tests: one helper instead of a copy per package.
package sandboxtest

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/testenv"
)

// RestartDelay is the start-up delay UpForRestart gives nodes: longer than a rollout's probe
// interval, so that a restart's down phase is seen.
const RestartDelay = 600 * time.Millisecond

// UpForRestart is Up for a test that restarts the nodes: StartupDelay defaults to RestartDelay.
func UpForRestart(t testing.TB, o sandbox.Options) *sandbox.Cluster {
	t.Helper()
	if o.StartupDelay == 0 {
		o.StartupDelay = RestartDelay
	}
	return Up(t, o)
}

// Up starts a sandbox cluster whose nodes are real processes of the reauth binary, waits until
// every node is RUNNING (sandbox.Up waits) and stops it when the test ends. Dir defaults to a fresh temporary
// directory and Exe to the reauth binary built for the tests. A failed start fails the test with
// the sandbox's own log.
func Up(t testing.TB, o sandbox.Options) *sandbox.Cluster {
	t.Helper()
	if o.Dir == "" {
		o.Dir = filepath.Join(t.TempDir(), "sb")
	}
	if o.Exe == "" {
		o.Exe = testenv.Binary(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var log bytes.Buffer
	c, err := sandbox.Up(ctx, o, &log)
	if err != nil {
		t.Fatalf("sandbox up %s: %v\n%s", o.Product, err, log.String())
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.Down(ctx); err != nil {
			t.Errorf("sandbox down: %v", err)
		}
	})
	return c
}
