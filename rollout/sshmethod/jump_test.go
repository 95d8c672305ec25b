package sshmethod

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/testenv"
)

// estate is a bastion and a node behind it, each a real sshd with its own host key, and a HOME
// whose ~/.ssh/config reaches the node only by its alias, as an admin's would.
type estate struct {
	home            string
	bastion, target *testenv.SSHD
	khNode, khJump  string
	getenv          func(string) string
}

func newEstate(t *testing.T) *estate {
	home := t.TempDir()
	pub := testenv.ClientKey(t, filepath.Join(home, ".ssh", "id_reauth"))
	e := &estate{home: home, bastion: testenv.StartSSHD(t, "bastion", pub), target: testenv.StartSSHD(t, "jira-1", pub)}
	e.khJump = filepath.Join(home, ".ssh", "known_hosts_bastion")
	e.khNode = filepath.Join(home, ".ssh", "known_hosts")
	write(t, e.khJump, e.bastion.KnownHostsLine)
	write(t, e.khNode, e.target.KnownHostsLine)
	write(t, filepath.Join(home, ".ssh", "config"), fmt.Sprintf(`Host bastion
  HostName 127.0.0.1
  Port %d
  UserKnownHostsFile ~/.ssh/known_hosts_bastion
Host jira-* !jira-9
  HostName 127.0.0.1
  Port %d
  ProxyJump bastion
Host inner
  HostName 127.0.0.1
  Port %d
  UserKnownHostsFile ~/.ssh/known_hosts_bastion
  ProxyJump bastion
Host jira-9
  HostName 127.0.0.1
  Port %d
  ProxyJump inner,bastion
Host *
  User root
  IdentityFile ~/.ssh/id_%%r
  IdentitiesOnly yes
  ServerAliveInterval 30
  ForwardAgent yes
`, e.bastion.Port, e.target.Port, e.bastion.Port, e.target.Port))
	// id_%r is id_root: the key is written under that name too.
	b, _ := os.ReadFile(filepath.Join(home, ".ssh", "id_reauth"))
	write(t, filepath.Join(home, ".ssh", "id_root"), string(b))
	e.getenv = func(k string) string {
		switch k {
		case "HOME":
			return home
		case "USER":
			return "admin"
		}
		return ""
	}
	return e
}

func write(t *testing.T, path, text string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o700)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (e *estate) restarter(t *testing.T, cfg Config, jump string) *Restarter {
	t.Helper()
	conf, err := LoadSSHConfig([]string{"~/.ssh/config"}, e.getenv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Getenv = e.getenv
	cfg, err = WithSSHConfig(cfg, conf, jump)
	if err != nil {
		t.Fatal(err)
	}
	r := New(cfg)
	t.Cleanup(func() { r.Close() })
	return r
}

// forwarded reports whether the bastion's sshd opened a forwarded connection to the node.
func (e *estate) forwarded(t *testing.T) int {
	b, err := os.ReadFile(e.bastion.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), fmt.Sprintf("target 127.0.0.1 port %d", e.target.Port))
}

func TestThroughJumpHostFromSSHConfig(t *testing.T) {
	e := newEstate(t)
	marker := filepath.Join(t.TempDir(), "restarted")
	r := e.restarter(t, Config{Host: "jira-1", Command: "touch " + reauth.ShellQuote(marker)}, "")
	if got, want := r.Route(), fmt.Sprintf("root@127.0.0.1:%d via bastion", e.target.Port); got != want {
		t.Errorf("route %q, want %q", got, want)
	}
	if n := r.Notes(); len(n) != 2 || !strings.Contains(n[0], "config:23: forwardagent yes for jira-1") || !strings.Contains(n[1], "for bastion") {
		t.Errorf("notes %q: ForwardAgent is not named for the node and the bastion", n)
	}
	ctx := context.Background()
	if err := r.Preflight(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Restart(ctx, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the command did not run on the node: %v", err)
	}
	if e.forwarded(t) == 0 {
		t.Errorf("the bastion's log shows no forwarded connection to the node: the route did not go through it")
	}
	// Two hops, the first with its own ProxyJump: bastion, then inner (through bastion), then bastion again.
	r9 := e.restarter(t, Config{Host: "jira-9", Command: "true"}, "")
	if got := r9.Route(); got != fmt.Sprintf("root@127.0.0.1:%d via bastion, inner, bastion", e.target.Port) {
		t.Errorf("route %q", got)
	}
	if err := r9.Preflight(ctx); err != nil {
		t.Fatalf("three hops: %v", err)
	}
	// The inventory's ProxyJump wins over the config's: "none" is a direct connection.
	direct := e.restarter(t, Config{Host: "jira-1", Command: "true"}, "none")
	before := e.forwarded(t)
	if err := direct.Preflight(ctx); err != nil || direct.Route() != fmt.Sprintf("root@127.0.0.1:%d", e.target.Port) || e.forwarded(t) != before {
		t.Errorf("direct: %v, route %q, forwarded %d → %d", err, direct.Route(), before, e.forwarded(t))
	}
}

// Every hop's host key is checked against its own known_hosts: a changed bastion key, or a node
// key that is unknown, refuses before any command runs.
func TestJumpHostKeysCheckedOnEveryHop(t *testing.T) {
	e := newEstate(t)
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	otherPub, _ := ssh.NewPublicKey(other)
	marker := filepath.Join(t.TempDir(), "ran")
	cfg := Config{Host: "jira-1", Command: "touch " + reauth.ShellQuote(marker)}

	write(t, e.khJump, fmt.Sprintf("[127.0.0.1]:%d %s", e.bastion.Port, ssh.MarshalAuthorizedKey(otherPub)))
	err := e.restarter(t, cfg, "").Preflight(context.Background())
	if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "jump host bastion") ||
		!strings.Contains(err.Error(), "HOST KEY MISMATCH") || !strings.Contains(err.Error(), ssh.FingerprintSHA256(e.bastion.HostKey)) {
		t.Errorf("changed bastion key: %v (exit %d)", err, reauth.CodeOf(err))
	}
	write(t, e.khJump, e.bastion.KnownHostsLine)
	write(t, e.khNode, "")
	err = e.restarter(t, cfg, "").Preflight(context.Background())
	if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "host key unknown") ||
		!strings.Contains(err.Error(), ssh.FingerprintSHA256(e.target.HostKey)) || strings.Contains(err.Error(), "jump host") {
		t.Errorf("unknown node key behind the bastion: %v (exit %d)", err, reauth.CodeOf(err))
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("a command ran although a host key was refused")
	}
}

// A directive reauth cannot follow, applying to the node, refuses with its file:line.
func TestUnsupportedDirectiveRefused(t *testing.T) {
	e := newEstate(t)
	cfgPath := filepath.Join(e.home, ".ssh", "config")
	b, _ := os.ReadFile(cfgPath)
	write(t, cfgPath, "Host jira-*\n  LocalForward 8080 127.0.0.1:80\n"+string(b))
	conf, err := LoadSSHConfig([]string{"~/.ssh/config"}, e.getenv)
	if err != nil {
		t.Fatal(err)
	}
	_, err = WithSSHConfig(Config{Host: "jira-1", Command: "true", Getenv: e.getenv}, conf, "")
	if reauth.CodeOf(err) != reauth.ExitUsage || !strings.Contains(err.Error(), cfgPath+":2: localforward applies to jira-1") {
		t.Errorf("err = %v", err)
	}
	if _, err := WithSSHConfig(Config{Host: "bastion", Command: "true", Getenv: e.getenv}, conf, ""); err != nil {
		t.Errorf("a host the directive does not apply to is refused: %v", err)
	}
}
