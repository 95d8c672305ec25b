// Package sshmethod restarts a node by running commands on it over SSH (golang.org/x/crypto/ssh).
//
// The OpenSSH client configuration (~/.ssh/config) is honoured through WithSSHConfig: host
// aliases, users, ports, identity files, known_hosts files and ProxyJump hosts, each hop
// authenticated and its host key checked like the node's (package sshconfig).
//
// Keys come from ssh-agent (SSH_AUTH_SOCK) and/or key files (default ~/.ssh/id_ed25519, id_ecdsa,
// id_rsa when no key file and no agent is given). Host keys are always checked against a
// known_hosts file (default ~/.ssh/known_hosts): an unknown or changed host key refuses the run
// with the offered key's fingerprint and the command that adds it. There is deliberately no way
// to skip that check: reauth runs `sudo` commands as an administrator.
//
// sudo: commands run without a terminal, which is what a NOPASSWD sudoers rule needs. Set TTY
// when sudoers says `Defaults requiretty`; reauth never types a sudo password.
//
// One connection per node is opened at preflight and reused (restart, stop/start, reading
// conf/server.xml, removing SESSIONS.ser); it is re-dialled once if it broke.
package sshmethod

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/syncio"
)

const (
	DefaultConnectTimeout = 15 * time.Second
	DefaultTimeout        = 10 * time.Minute
)

// Config is one node's SSH settings. WithSSHConfig fills it from the OpenSSH client configuration.
type Config struct {
	Host                       string
	Port                       int // default 22
	User                       string
	Command, StopCmd, StartCmd string
	KeyFiles                   []string
	KnownHosts                 string // default ~/.ssh/known_hosts
	Agent                      *bool  // nil: use the agent when SSH_AUTH_SOCK is set
	TTY                        bool
	ConnectTimeout, Timeout    time.Duration
	Getenv                     func(string) string // HOME, SSH_AUTH_SOCK, USER (default os.Getenv)

	// Alias is the name the inventory gave when ssh_config resolved it to Host ("" = Host).
	Alias string
	// KnownHostsFiles are ssh_config's UserKnownHostsFile, used when KnownHosts is "".
	KnownHostsFiles []string
	IdentitiesOnly  bool
	// Jumps are the ProxyJump hosts, the first one dialled first.
	Jumps []Endpoint
	// ServerAliveInterval > 0 closes a connection that misses ServerAliveCountMax (default 3) replies.
	ServerAliveInterval time.Duration
	ServerAliveCountMax int
	// Notes name the ssh_config directives that applied and that reauth does not follow.
	Notes []string
}

// Restarter runs the node's commands over SSH.
type Restarter struct {
	cfg     Config
	mu      sync.Mutex
	clients []*ssh.Client // the jump hosts', then the node's
}

// New returns a Restarter; nothing is dialled until Preflight or a command.
func New(cfg Config) *Restarter {
	if cfg.Port == 0 {
		cfg.Port = 22
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.User == "" {
		cfg.User = cfg.Getenv("USER")
	}
	if cfg.Alias == "" {
		cfg.Alias = cfg.Host
	}
	cfg.Jumps = append([]Endpoint(nil), cfg.Jumps...)
	for i := range cfg.Jumps {
		j := &cfg.Jumps[i]
		if j.Port == 0 {
			j.Port = 22
		}
		if j.User == "" {
			j.User = cfg.Getenv("USER")
		}
		if j.Name == "" {
			j.Name = j.Host
		}
	}
	return &Restarter{cfg: cfg}
}

// Addr is host:port.
func (r *Restarter) Addr() string { return net.JoinHostPort(r.cfg.Host, strconv.Itoa(r.cfg.Port)) }

// Route is how the node is reached: "ops@10.0.2.12:22 via bastion".
func (r *Restarter) Route() string {
	s := r.cfg.User + "@" + r.Addr()
	if len(r.cfg.Jumps) > 0 {
		names := make([]string, len(r.cfg.Jumps))
		for i, j := range r.cfg.Jumps {
			names[i] = j.Name
		}
		s += " via " + strings.Join(names, ", ")
	}
	return s
}

// Notes are the ssh_config directives for this node that reauth does not follow.
func (r *Restarter) Notes() []string { return r.cfg.Notes }

// Method implements rollout.Restarter.
func (r *Restarter) Method() string { return "ssh" }

// Preflight connects (host key, authentication) and runs `true`.
func (r *Restarter) Preflight(ctx context.Context) error {
	if r.cfg.Command == "" && (r.cfg.StopCmd == "" || r.cfg.StartCmd == "") {
		return reauth.Usage("set command, or stop and start", "ssh %s: no restart command", r.Addr())
	}
	if _, err := r.connect(ctx); err != nil {
		return err
	}
	if err := r.run(ctx, "true", io.Discard, r.cfg.ConnectTimeout); err != nil {
		return reauth.Refused("check that the account may run commands on the node", "ssh %s@%s: %v", r.cfg.User, r.Addr(), err)
	}
	return nil
}

// Restart runs the restart command, or stop then start.
func (r *Restarter) Restart(ctx context.Context, log io.Writer) error {
	if r.cfg.Command != "" {
		return r.runNamed(ctx, "restart", r.cfg.Command, log)
	}
	if err := r.Stop(ctx, log); err != nil {
		return err
	}
	return r.Start(ctx, log)
}

// CanStopStart reports whether separate stop and start commands are configured.
func (r *Restarter) CanStopStart() bool { return r.cfg.StopCmd != "" && r.cfg.StartCmd != "" }

// Stop runs the stop command.
func (r *Restarter) Stop(ctx context.Context, log io.Writer) error {
	if r.cfg.StopCmd == "" {
		return errors.New("ssh: no stop command configured")
	}
	return r.runNamed(ctx, "stop", r.cfg.StopCmd, log)
}

// Start runs the start command.
func (r *Restarter) Start(ctx context.Context, log io.Writer) error {
	if r.cfg.StartCmd == "" {
		return errors.New("ssh: no start command configured")
	}
	return r.runNamed(ctx, "start", r.cfg.StartCmd, log)
}

func (r *Restarter) runNamed(ctx context.Context, what, cmd string, log io.Writer) error {
	if err := r.run(ctx, cmd, log, r.cfg.Timeout); err != nil {
		return fmt.Errorf("%s command on %s: %w", what, r.Addr(), err)
	}
	return nil
}

// errNotExist is the exit status the read script uses for a missing file.
const notExistStatus = 44

// ReadFile reads a file on the node.
func (r *Restarter) ReadFile(ctx context.Context, path string) ([]byte, error) {
	var out strings.Builder
	q := reauth.ShellQuote(path)
	cmd := fmt.Sprintf("if [ -e %s ]; then exec cat -- %s; else exit %d; fi", q, q, notExistStatus)
	err := r.run(ctx, cmd, &out, r.cfg.ConnectTimeout+time.Minute)
	var ee *ssh.ExitError
	if errors.As(err, &ee) && ee.ExitStatus() == notExistStatus {
		return nil, fmt.Errorf("%s on %s: %w", path, r.cfg.Host, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s on %s: %w", path, r.cfg.Host, err)
	}
	return []byte(out.String()), nil
}

// RemoveFiles removes files on the node ("*" matches one path element); missing files are fine.
func (r *Restarter) RemoveFiles(ctx context.Context, paths []string, log io.Writer) error {
	var pats []string
	for _, p := range paths {
		pats = append(pats, globQuote(p))
	}
	cmd := fmt.Sprintf(`for f in %s; do if [ -e "$f" ]; then rm -f -- "$f" && echo "removed $f"; fi; done`, strings.Join(pats, " "))
	if err := r.run(ctx, cmd, log, r.cfg.ConnectTimeout+time.Minute); err != nil {
		return fmt.Errorf("remove files on %s: %w", r.cfg.Host, err)
	}
	return nil
}

// Close closes the connection.
func (r *Restarter) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.clients == nil {
		return nil
	}
	closeAll(r.clients)
	r.clients = nil
	return nil
}

// run runs cmd in a new session, output to log, killed after timeout or when ctx is done.
func (r *Restarter) run(ctx context.Context, cmd string, log io.Writer, timeout time.Duration) error {
	sess, err := r.session(ctx)
	if err != nil {
		return err
	}
	defer sess.Close()
	if r.cfg.TTY {
		modes := ssh.TerminalModes{ssh.ECHO: 0, ssh.TTY_OP_ISPEED: 14400, ssh.TTY_OP_OSPEED: 14400}
		if err := sess.RequestPty("xterm", 40, 120, modes); err != nil {
			return fmt.Errorf("request a terminal: %w", err)
		}
	}
	// stdout and stderr are copied by two goroutines: serialise their writes.
	w := syncio.NewWriter(log)
	sess.Stdout, sess.Stderr = w, w
	if err := sess.Start(cmd); err != nil {
		return fmt.Errorf("start command: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		_ = sess.Signal(ssh.SIGKILL)
		sess.Close()
		return fmt.Errorf("command did not finish within %v (session closed)", timeout)
	case <-ctx.Done():
		_ = sess.Signal(ssh.SIGKILL)
		sess.Close()
		return ctx.Err()
	}
}

// session opens a session on the cached connection, re-dialling once if it broke.
func (r *Restarter) session(ctx context.Context) (*ssh.Session, error) {
	c, err := r.connect(ctx)
	if err != nil {
		return nil, err
	}
	s, err := c.NewSession()
	if err == nil {
		return s, nil
	}
	r.Close()
	if c, err = r.connect(ctx); err != nil {
		return nil, err
	}
	return c.NewSession()
}

func (r *Restarter) connect(ctx context.Context) (*ssh.Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.clients != nil {
		return r.clients[len(r.clients)-1], nil
	}
	cs, err := dial(ctx, r.cfg)
	if err != nil {
		return nil, err
	}
	r.clients = cs
	return cs[len(cs)-1], nil
}

// globQuote quotes s but leaves each "*" to the shell.
func globQuote(s string) string {
	parts := strings.Split(s, "*")
	for i, p := range parts {
		if p != "" {
			parts[i] = reauth.ShellQuote(p)
		}
	}
	return strings.Join(parts, "*")
}
