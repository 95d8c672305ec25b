package sshmethod

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/reauth/reauth/internal/testenv"
)

// descendants are the processes under pid (from /proc).
func descendants(pid int) []int {
	parent := map[int]int{}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: comm may hold spaces, so read after the last ')'.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		p, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if len(f) > 1 {
			parent[p], _ = strconv.Atoi(f[1])
		}
	}
	var out []int
	var walk func(int)
	walk = func(pp int) {
		for c, p := range parent {
			if p == pp {
				out = append(out, c)
				walk(c)
			}
		}
	}
	walk(pid)
	return out
}

// ServerAliveInterval: when the node's sshd stops answering (its connection's processes are
// stopped, the TCP connection still open), the connection is closed instead of hanging.
func TestServerAliveClosesADeadConnection(t *testing.T) {
	home := t.TempDir()
	pub := testenv.ClientKey(t, filepath.Join(home, "id"))
	node := testenv.StartSSHD(t, "node", pub)
	write(t, filepath.Join(home, "known_hosts"), node.KnownHostsLine)
	r := New(Config{Host: node.Host, Port: node.Port, User: "root", KeyFiles: []string{filepath.Join(home, "id")},
		KnownHosts: filepath.Join(home, "known_hosts"), Command: "true", Getenv: noEnv,
		ServerAliveInterval: 100 * time.Millisecond, ServerAliveCountMax: 2})
	defer r.Close()
	if err := r.Preflight(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	c := r.clients[len(r.clients)-1]
	r.mu.Unlock()
	stopped := descendants(node.Pid)
	if len(stopped) == 0 {
		t.Fatal("no sshd process serves the connection")
	}
	for _, p := range stopped {
		syscall.Kill(p, syscall.SIGSTOP)
	}
	t.Cleanup(func() {
		for _, p := range stopped {
			syscall.Kill(p, syscall.SIGCONT)
			syscall.Kill(p, syscall.SIGKILL)
		}
	})
	closed := make(chan struct{})
	go func() { c.Wait(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("the connection to a node that stopped answering is still open after 30s")
	}
}

// IdentitiesOnly: with an agent full of other keys, only the IdentityFile is offered, so the
// server's MaxAuthTries (6) is not used up by the agent's keys first.
func TestIdentitiesOnlyOffersOnlyTheKeyFile(t *testing.T) {
	home := t.TempDir()
	pub := testenv.ClientKey(t, filepath.Join(home, ".ssh", "id_node"))
	node := testenv.StartSSHD(t, "node", pub)
	write(t, filepath.Join(home, ".ssh", "known_hosts"), node.KnownHostsLine)
	keyring := agent.NewKeyring()
	for i := 0; i < 7; i++ {
		other := filepath.Join(home, "other"+strconv.Itoa(i))
		testenv.ClientKey(t, other)
		b, _ := os.ReadFile(other)
		k, err := ssh.ParseRawPrivateKey(b)
		if err != nil {
			t.Fatal(err)
		}
		keyring.Add(agent.AddedKey{PrivateKey: k})
	}
	sock := serveAgent(t, keyring)
	getenv := func(k string) string {
		switch k {
		case "HOME":
			return home
		case "SSH_AUTH_SOCK":
			return sock
		}
		return ""
	}
	for _, only := range []string{"no", "yes"} {
		write(t, filepath.Join(home, ".ssh", "config"), "Host node\n  HostName 127.0.0.1\n  Port "+strconv.Itoa(node.Port)+
			"\n  User root\n  IdentityFile ~/.ssh/id_node\n  IdentitiesOnly "+only+"\n")
		conf, err := LoadSSHConfig([]string{"~/.ssh/config"}, getenv)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := WithSSHConfig(Config{Host: "node", Command: "true", Getenv: getenv}, conf, "")
		if err != nil {
			t.Fatal(err)
		}
		r := New(cfg)
		err = r.Preflight(context.Background())
		r.Close()
		if only == "yes" && err != nil {
			t.Errorf("IdentitiesOnly yes: %v", err)
		}
		if only == "no" && err == nil {
			t.Errorf("without IdentitiesOnly the agent's 7 keys should use up MaxAuthTries: the test shows nothing")
		}
	}
}

// serveAgent serves keyring as an ssh-agent on a socket until the test ends.
func serveAgent(t *testing.T, keyring agent.Agent) string {
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { agent.ServeAgent(keyring, c); c.Close() }()
		}
	}()
	return sock
}
