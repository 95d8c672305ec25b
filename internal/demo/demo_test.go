package demo

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/reauth/reauth/internal/testenv"
)

// TestDemoLeavesOperatorStateAlone runs the demo with HOME and XDG_STATE_HOME pointing at empty
// directories: afterwards neither holds anything (no reauth state directory, no backup of the
// demo's tokens, no audit lines), and with --keep the run's state is in the kept directory.
func TestDemoLeavesOperatorStateAlone(t *testing.T) {
	exe := testenv.Binary(t)
	home, xdg := t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_STATE_HOME", xdg)
	keep := filepath.Join(t.TempDir(), "demo")
	if err := os.MkdirAll(keep, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, Options{Out: io.Discard, Err: io.Discard, Exe: exe, Dir: keep, Users: 4, Nodes: 2})
	if err != nil {
		t.Fatalf("demo: %v (%+v)", err, res)
	}
	for _, d := range []string{home, xdg} {
		if ents, _ := os.ReadDir(d); len(ents) != 0 {
			t.Errorf("the demo wrote into the operator's %s: %v", d, ents)
		}
	}
	state := StateDir(keep).Path
	if _, err := os.Stat(filepath.Join(state, "audit.jsonl")); err != nil {
		t.Errorf("the demo's audit log is not in its own state directory: %v", err)
	}
	if backups, _ := filepath.Glob(filepath.Join(state, "backups", "*")); len(backups) == 0 {
		t.Errorf("the demo's backup is not in %s", filepath.Join(state, "backups"))
	}
}
