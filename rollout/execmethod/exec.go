// Package execmethod restarts a node with local shell commands (`sh -c`): one restart command, or
// a stop and a start command (so that SESSIONS.ser can be removed while the node is down). Each
// command runs in its own process group with a timeout; on timeout or cancellation the whole group
// is killed, so a hung `systemctl` or a script's children do not outlive reauth. Output goes to
// the log writer.
package execmethod

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/reauth/reauth/internal/boundedfile"
)

// DefaultTimeout bounds one command when none is configured.
const DefaultTimeout = 10 * time.Minute

// Restarter runs local commands. Set Command, or Stop and Start.
type Restarter struct {
	Command, StopCmd, StartCmd string
	Timeout                    time.Duration
	Env                        Env
}

// Env is the environment of a child command: reauth's own, without the variables in Drop, plus
// Set (KEY=VALUE). Drop names every variable reauth read a secret from (REAUTH_DB_PASSWORD, the
// inventory's *_env): a drain hook or restart script has no business with the database password
// or the admin token, and would hand them to everything it runs in turn.
type Env struct {
	Drop []string
	Set  []string
}

// Environ returns the environment the child gets.
func (e Env) Environ() []string {
	drop := make(map[string]bool, len(e.Drop))
	for _, k := range e.Drop {
		drop[k] = true
	}
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			out = append(out, kv)
		}
	}
	return append(out, e.Set...)
}

// Method implements rollout.Restarter.
func (r *Restarter) Method() string { return "exec" }

// Preflight checks that the commands can run at all: a shell, and a command to give it.
func (r *Restarter) Preflight(ctx context.Context) error {
	if r.Command == "" && (r.StopCmd == "" || r.StartCmd == "") {
		return errors.New("exec: no restart command (set command, or stop and start)")
	}
	if _, err := exec.LookPath("sh"); err != nil {
		return fmt.Errorf("exec: no shell to run the restart command: %w", err)
	}
	return nil
}

// Restart runs the restart command, or stop then start.
func (r *Restarter) Restart(ctx context.Context, log io.Writer) error {
	if r.Command != "" {
		return r.run(ctx, "restart", r.Command, log)
	}
	if err := r.Stop(ctx, log); err != nil {
		return err
	}
	return r.Start(ctx, log)
}

// CanStopStart reports whether separate stop and start commands are configured.
func (r *Restarter) CanStopStart() bool { return r.StopCmd != "" && r.StartCmd != "" }

// Stop runs the stop command.
func (r *Restarter) Stop(ctx context.Context, log io.Writer) error {
	if r.StopCmd == "" {
		return errors.New("exec: no stop command configured")
	}
	return r.run(ctx, "stop", r.StopCmd, log)
}

// Start runs the start command.
func (r *Restarter) Start(ctx context.Context, log io.Writer) error {
	if r.StartCmd == "" {
		return errors.New("exec: no start command configured")
	}
	return r.run(ctx, "start", r.StartCmd, log)
}

func (r *Restarter) run(ctx context.Context, what, command string, log io.Writer) error {
	t := r.Timeout
	if t <= 0 {
		t = DefaultTimeout
	}
	if err := RunShell(ctx, command, r.Env, t, log); err != nil {
		return fmt.Errorf("%s command: %w", what, err)
	}
	return nil
}

// maxReadFile bounds what ReadFile returns: it reads Tomcat's server.xml and context.xml.
const maxReadFile = 8 << 20

// ReadFile reads a local file (the node runs on this machine): a regular file, at most maxReadFile bytes.
func (r *Restarter) ReadFile(ctx context.Context, path string) ([]byte, error) {
	return boundedfile.Read(path, maxReadFile)
}

// RemoveFiles removes local files; "*" in a path matches one path element. Missing files are fine.
func (r *Restarter) RemoveFiles(ctx context.Context, paths []string, log io.Writer) error {
	for _, p := range paths {
		matches := []string{p}
		if strings.Contains(p, "*") {
			var err error
			if matches, err = filepath.Glob(p); err != nil {
				return fmt.Errorf("bad path pattern %q: %w", p, err)
			}
		}
		for _, m := range matches {
			err := os.Remove(m)
			switch {
			case err == nil:
				fmt.Fprintf(log, "removed %s\n", m)
			case errors.Is(err, os.ErrNotExist):
			default:
				return fmt.Errorf("remove %s: %w", m, err)
			}
		}
	}
	return nil
}

// RunShell runs `sh -c command` in environment env, its output to log, killed (with its whole
// process group) after timeout or when ctx is done.
func RunShell(ctx context.Context, command string, env Env, timeout time.Duration, log io.Writer) error {
	if log == nil {
		log = io.Discard
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.Command("sh", "-c", command)
	cmd.Env = env.Environ()
	// Output goes to a temporary file, copied to log afterwards: a command that starts a daemon
	// (a node) hands it our stdout, and a pipe would then stay open long after the command is done.
	out, err := os.CreateTemp("", "reauth-exec-*.log")
	if err != nil {
		return fmt.Errorf("output file: %w", err)
	}
	defer func() {
		_, _ = out.Seek(0, io.SeekStart)
		_, _ = io.Copy(log, out)
		out.Close()
		os.Remove(out.Name())
	}()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %q: %w", command, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%q: %w", command, err)
		}
		return nil
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%q did not finish within %v (killed)", command, timeout)
		}
		return fmt.Errorf("%q: %w", command, ctx.Err())
	}
}

// SystemdUnit is the unit a "systemctl [--flags] restart|start UNIT" command acts on ("" when
// the command is no such systemctl call): where a node's log is, for a failure's hint.
func SystemdUnit(cmd string) string {
	f := strings.Fields(cmd)
	for i, w := range f {
		if w != "systemctl" && !strings.HasSuffix(w, "/systemctl") {
			continue
		}
		verb := false
		for _, a := range f[i+1:] {
			switch {
			case strings.HasPrefix(a, "-"):
			case !verb && (a == "restart" || a == "start"):
				verb = true
			case verb && !strings.ContainsAny(a, ";&|$`'\"<>"):
				return a
			default:
				return ""
			}
		}
	}
	return ""
}

// RestartCommand is the one restart command ("" with stop and start): for the YAML of a fix.
func (r *Restarter) RestartCommand() string {
	if r.StopCmd != "" || r.StartCmd != "" {
		return ""
	}
	return r.Command
}
