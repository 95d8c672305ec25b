package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// startDetached starts `EXE sandbox node --dir DIR --name NAME` in its own session (so that
// neither a terminal hang-up nor the death of whoever started it takes it down), with stdout and
// stderr appended to the node's log, and records its pid.
func startDetached(exe, dir, name string) (int, error) {
	nd := nodeDir(dir, name)
	logf, err := os.OpenFile(filepath.Join(nd, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, fmt.Errorf("start %s: %w", name, err)
	}
	defer logf.Close() // the child has its own copy
	cmd := exec.Command(exe, "sandbox", "node", "--dir", dir, "--name", name)
	cmd.Dir, cmd.Stdout, cmd.Stderr = nd, logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start node %s with %s: %w", name, exe, err)
	}
	pid := cmd.Process.Pid
	// Reap the child if it exits while this process lives, so that it never lingers as a zombie
	// that still "exists" for kill(pid, 0). If this process exits first, init reaps it.
	go func() { _ = cmd.Wait() }()
	if err := writeFile(pidFile(dir, name), []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		_ = cmd.Process.Kill()
		return 0, fmt.Errorf("record pid of %s: %w", name, err)
	}
	return pid, nil
}

// readPID returns the pid recorded for the node, 0 when none is.
func readPID(dir, name string) int {
	b, err := os.ReadFile(pidFile(dir, name))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if errors.Is(err, fs.ErrNotExist) {
		if _, perr := os.Stat("/proc/self/stat"); perr == nil {
			return false // reaped between kill(0) and the read
		}
	}
	if err != nil {
		return true // no /proc: trust kill(0)
	}
	// The state follows the parenthesised command name, which may itself contain spaces.
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z'
	}
	return true
}

// isNode reports whether pid is this sandbox's node name, so that a recycled pid is never
// signalled by mistake.
//
// A process that has just been started can still be inside execve: the parent's Start returns as
// soon as the kernel closes the child's close-on-exec descriptors, before the new program's
// arguments are in place, and meanwhile /proc/PID/cmdline reads empty. Reading it then made a
// node that was starting look gone (the "exited while starting" and "still alive after Down"
// flakes, under load), so an empty cmdline of a live process is read again until it fills.
func isNode(pid int, dir, name string) bool {
	path := fmt.Sprintf("/proc/%d/cmdline", pid)
	b, err := os.ReadFile(path)
	if err != nil {
		return alive(pid) // no /proc: trust the pid file
	}
	for deadline := time.Now().Add(5 * time.Second); len(b) == 0 && alive(pid) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
		if b, err = os.ReadFile(path); err != nil {
			return false
		}
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	var gotDir, gotName bool
	for i := 0; i+1 < len(args); i++ {
		gotDir = gotDir || args[i] == "--dir" && args[i+1] == dir
		gotName = gotName || args[i] == "--name" && args[i+1] == name
	}
	return gotDir && gotName
}

// runningPID returns the node's pid when its process is alive, else 0.
func runningPID(dir, name string) int {
	pid := readPID(dir, name)
	if pid != 0 && alive(pid) && isNode(pid, dir, name) {
		return pid
	}
	return 0
}

// stopPID sends SIGTERM (a graceful stop: the node persists sessions if configured), waits up to
// grace for the process to exit, then SIGKILLs it.
func stopPID(ctx context.Context, pid int, grace time.Duration) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal pid %d: %w", pid, err)
	}
	if waitGone(ctx, pid, grace) {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	if waitGone(ctx, pid, 5*time.Second) {
		return nil
	}
	return fmt.Errorf("pid %d did not exit after SIGKILL", pid)
}

func waitGone(ctx context.Context, pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for alive(pid) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(10 * time.Millisecond) // polling a pid: there is no wait() for a non-child
	}
	return true
}
