package runbook_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
)

// jumpEstate is a sandbox Jira cluster whose nodes are restarted over SSH through a bastion:
// two real sshd processes with their own host keys, and a HOME whose ~/.ssh/config says how to
// reach jira-* (ProxyJump, HostName, Port, User, IdentityFile, UserKnownHostsFile).
type jumpEstate struct {
	c               *sandbox.Cluster
	home, dir       string
	bastion, target *testenv.SSHD
	env             []string
}

func newJumpEstate(t *testing.T) *jumpEstate {
	home := t.TempDir()
	pub := testenv.ClientKey(t, filepath.Join(home, ".ssh", "id_ops"))
	e := &jumpEstate{home: home, dir: t.TempDir(), bastion: testenv.StartSSHD(t, "bastion", pub), target: testenv.StartSSHD(t, "jira", pub)}
	e.c = sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 2, Users: 6, RememberFraction: 0.5})
	writeFile(t, filepath.Join(home, ".ssh", "known_hosts"), e.target.KnownHostsLine)
	writeFile(t, filepath.Join(home, ".ssh", "bastion_known_hosts"), e.bastion.KnownHostsLine)
	// Every node alias reaches the same loopback sshd (the nodes are processes on this machine).
	writeFile(t, filepath.Join(home, ".ssh", "config"), fmt.Sprintf(`Host bastion
  HostName 127.0.0.1
  Port %d
  UserKnownHostsFile ~/.ssh/bastion_known_hosts
Host jira-*
  HostName 127.0.0.1
  Port %d
  ProxyJump bastion
Host plain-*
  HostName 127.0.0.1
  Port %d
Host *
  User root
  IdentityFile ~/.ssh/id_ops
`, e.bastion.Port, e.target.Port, e.target.Port))
	e.env = []string{"HOME=" + home, "SSH_AUTH_SOCK="}
	return e
}

// inventory is a reauth.yaml that names each node's SSH host by its alias only.
func (e *jumpEstate) inventory(t *testing.T) string {
	var b strings.Builder
	fmt.Fprintf(&b, "defaults: {start_timeout: 60s, poll_interval: 200ms, stable_window: 300ms, backup_dir: %s, audit_log: %s}\n",
		e.dir, filepath.Join(e.dir, "audit.jsonl"))
	fmt.Fprintf(&b, "products:\n  - product: jira\n    home: %s\n    proof_user: admin\n    nodes:\n", e.c.Home())
	for i, n := range e.c.Nodes() {
		cmd := fmt.Sprintf("%s sandbox restart-node --dir %s --node %s", testenv.Binary(t), e.c.Dir(), n.Name)
		fmt.Fprintf(&b, "      - {name: %s, url: %s, install: %s, restart: {ssh: {host: jira-%d, command: %q}}}\n", n.Name, n.URL, n.Dir, i+1, cmd)
	}
	p := filepath.Join(e.dir, "reauth.yaml")
	writeFile(t, p, b.String())
	return p
}

// forwarded counts the connections the bastion forwarded to the nodes' sshd.
func (e *jumpEstate) forwarded(t *testing.T) int {
	b, _ := os.ReadFile(e.bastion.LogFile)
	return strings.Count(string(b), fmt.Sprintf("target 127.0.0.1 port %d", e.target.Port))
}

type routesJSON struct {
	Verified       bool  `json:"verified"`
	NodesRestarted int   `json:"nodes_restarted"`
	Deleted        int64 `json:"deleted"`
	Products       []struct {
		Routes   map[string]string `json:"routes"`
		Warnings []string          `json:"warnings"`
	} `json:"products"`
}

// A run whose inventory names the nodes only by ssh_config aliases restarts every node through
// the jump host and verifies; the plan and --json carry each node's resolved route.
func TestRunThroughJumpHost(t *testing.T) {
	e := newJumpEstate(t)
	cfg := e.inventory(t)
	route := fmt.Sprintf("root@127.0.0.1:%d via bastion", e.target.Port)

	stdout, stderr, code := reauthCmd(t, e.env, "run", "--config", cfg, "--dry-run", "--json")
	if code != 0 {
		t.Fatalf("dry run exited %d\n%s\n%s", code, stdout, stderr)
	}
	var r routesJSON
	if err := json.Unmarshal([]byte(stdout), &r); err != nil || len(r.Products) != 1 {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	for _, n := range e.c.Nodes() {
		if got := r.Products[0].Routes[n.Name]; got != route {
			t.Errorf("--json routes[%s] = %q, want %q", n.Name, got, route)
		}
	}
	plan, stderr, code := reauthCmd(t, e.env, "run", "--config", cfg, "--dry-run")
	if code != 0 || !strings.Contains(plan+stderr, "via ssh ("+route+")") {
		t.Errorf("the plan (exit %d) does not show the route %q:\n%s\n%s", code, route, plan, stderr)
	}

	stdout, stderr, code = reauthCmd(t, e.env, "run", "--config", cfg, "--yes", "--json")
	if code != 0 {
		t.Fatalf("run exited %d\n%s\n%s", code, stdout, stderr)
	}
	r = routesJSON{}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if !r.Verified || r.NodesRestarted != 2 || r.Deleted == 0 {
		t.Errorf("verified=%v nodes_restarted=%d deleted=%d\n%s", r.Verified, r.NodesRestarted, r.Deleted, stderr)
	}
	if e.forwarded(t) < 2 {
		t.Errorf("the bastion forwarded %d connection(s) to the nodes' sshd: the restarts did not go through it", e.forwarded(t))
	}
}

// A changed host key on the bastion refuses the run (exit 4) before anything changed; a config
// directive reauth cannot follow is refused with its file:line (exit 2).
func TestRunThroughJumpHostRefusals(t *testing.T) {
	e := newJumpEstate(t)
	cfg := e.inventory(t)
	bs := browsers(t, e.c)
	before := loggedIn(t, e.c, bs)

	other, _, _ := ed25519.GenerateKey(rand.Reader)
	otherPub, _ := ssh.NewPublicKey(other)
	writeFile(t, filepath.Join(e.home, ".ssh", "bastion_known_hosts"), fmt.Sprintf("[127.0.0.1]:%d %s", e.bastion.Port, ssh.MarshalAuthorizedKey(otherPub)))
	stdout, stderr, code := reauthCmd(t, e.env, "run", "--config", cfg, "--yes")
	if code != 4 || !strings.Contains(stderr, "jump host bastion") || !strings.Contains(stderr, "HOST KEY MISMATCH") {
		t.Errorf("changed bastion key: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if after := loggedIn(t, e.c, bs); len(after) != len(before) {
		t.Errorf("something changed although the run was refused: %d of %d browsers still logged in", len(after), len(before))
	}
	if e.forwarded(t) != 0 {
		t.Error("the bastion forwarded a connection although its host key was refused")
	}

	writeFile(t, filepath.Join(e.home, ".ssh", "bastion_known_hosts"), e.bastion.KnownHostsLine)
	conf := filepath.Join(e.home, ".ssh", "config")
	b, _ := os.ReadFile(conf)
	writeFile(t, conf, "Host jira-2\n  ProxyCommand nc %h %p\n"+string(b))
	_, stderr, code = reauthCmd(t, e.env, "run", "--config", cfg, "--dry-run")
	if code != 2 || !strings.Contains(stderr, conf+":2: proxycommand applies to jira-2") {
		t.Errorf("unsupported directive: exit %d\n%s", code, stderr)
	}
}

// A run whose reauth.yaml has nothing about the nodes but nodes_from: the Ansible inventory
// names each node by an ssh_config alias without a ProxyJump (ansible_host) and gives the jump
// host itself (-J): every node is restarted through the bastion and the run verifies.
func TestRunNodesFromAnsibleThroughJumpHost(t *testing.T) {
	e := newJumpEstate(t)
	var hosts strings.Builder
	hosts.WriteString("[jira]\n")
	for i, n := range e.c.Nodes() {
		port := n.URL[strings.LastIndex(n.URL, ":")+1:]
		fmt.Fprintf(&hosts, "%s ansible_host=plain-%d http_port=%s\n", n.Name, i+1, port)
	}
	hosts.WriteString("\n[jira:vars]\nansible_ssh_common_args='-J bastion'\n")
	writeFile(t, filepath.Join(e.dir, "ansible", "hosts.ini"), hosts.String())
	cfg := filepath.Join(e.dir, "reauth.yaml")
	writeFile(t, cfg, fmt.Sprintf(`defaults: {start_timeout: 60s, poll_interval: 200ms, stable_window: 300ms, backup_dir: %s, audit_log: %s}
products:
  - product: jira
    home: %s
    proof_user: admin
    nodes_from:
      ansible: ansible/hosts.ini
      group: jira
      url_template: "http://127.0.0.1:{http_port}"
      restart: {ssh: {command: "%s sandbox restart-node --dir %s --node {name}"}}
`, e.dir, filepath.Join(e.dir, "audit.jsonl"), e.c.Home(), testenv.Binary(t), e.c.Dir()))
	stdout, stderr, code := reauthCmd(t, e.env, "run", "--config", cfg, "--yes", "--json")
	if code != 0 {
		t.Fatalf("run exited %d\n%s\n%s", code, stdout, stderr)
	}
	var r routesJSON
	if err := json.Unmarshal([]byte(stdout), &r); err != nil || len(r.Products) != 1 {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	if !r.Verified || r.NodesRestarted != len(e.c.Nodes()) {
		t.Errorf("verified=%v nodes_restarted=%d\n%s", r.Verified, r.NodesRestarted, stderr)
	}
	for _, n := range e.c.Nodes() {
		if got, want := r.Products[0].Routes[n.Name], fmt.Sprintf("root@127.0.0.1:%d via bastion", e.target.Port); got != want {
			t.Errorf("routes[%s] = %q, want %q", n.Name, got, want)
		}
	}
	if e.forwarded(t) < len(e.c.Nodes()) {
		t.Errorf("the bastion forwarded %d connection(s): the restarts did not go through it", e.forwarded(t))
	}
}
