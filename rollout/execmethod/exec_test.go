package execmethod

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRestartCommandAndOutput(t *testing.T) {
	dir := t.TempDir()
	var log bytes.Buffer
	r := &Restarter{Command: "echo restarted; echo oops >&2; touch " + filepath.Join(dir, "done"), Env: Env{Set: []string{"X=1"}}}
	if err := r.Preflight(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.Restart(context.Background(), &log); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "done")); err != nil || !strings.Contains(log.String(), "restarted") || !strings.Contains(log.String(), "oops") {
		t.Errorf("log = %q, %v", log.String(), err)
	}
	r = &Restarter{StopCmd: "echo stop >> " + filepath.Join(dir, "seq"), StartCmd: "echo start >> " + filepath.Join(dir, "seq")}
	if err := r.Restart(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "seq")); string(b) != "stop\nstart\n" {
		t.Errorf("stop/start ran as %q", b)
	}
	if err := (&Restarter{Command: "exit 7"}).Restart(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "exit status 7") {
		t.Errorf("failing command: %v", err)
	}
	if err := (&Restarter{StopCmd: "true"}).Preflight(context.Background()); err == nil {
		t.Error("stop without start passed preflight")
	}
}

// A command that hangs is killed after its timeout, with its children (the whole process group).
func TestTimeoutKillsProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	r := &Restarter{Command: "sleep 30 & echo $! > " + pidFile + "; wait", Timeout: 300 * time.Millisecond}
	start := time.Now()
	err := r.Restart(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "did not finish within") || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
	b, _ := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("child %d survived the timeout", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A command that starts a daemon returns at once even though the daemon keeps running.
func TestDaemonDoesNotHoldTheCommand(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "d.pid")
	start := time.Now()
	if err := RunShell(context.Background(), "sleep 5 & echo $! > "+pidFile, Env{}, time.Minute, nil); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("took %v", time.Since(start))
	}
	b, _ := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	syscall.Kill(pid, syscall.SIGKILL)
}

func TestFiles(t *testing.T) {
	base := t.TempDir()
	for _, app := range []string{"ROOT", "jira"} {
		os.MkdirAll(filepath.Join(base, "work", app), 0o755)
		os.WriteFile(filepath.Join(base, "work", app, "SESSIONS.ser"), []byte("x"), 0o600)
	}
	r := &Restarter{Command: "true"}
	var log bytes.Buffer
	if err := r.RemoveFiles(context.Background(), []string{filepath.Join(base, "work/*/SESSIONS.ser"), filepath.Join(base, "missing")}, &log); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(base, "work/*/SESSIONS.ser"))
	if len(left) != 0 || strings.Count(log.String(), "removed") != 2 {
		t.Errorf("left %v, log %q", left, log.String())
	}
	if _, err := r.ReadFile(context.Background(), filepath.Join(base, "nope")); !os.IsNotExist(err) {
		t.Errorf("read missing: %v", err)
	}
}
