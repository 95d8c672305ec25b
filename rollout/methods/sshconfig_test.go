package methods

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/rollout"
)

// The plan resolves ssh hosts through ~/.ssh/config (or defaults.ssh_config), the inventory's
// own fields winning; ssh_config: none reads no config; a directive reauth cannot follow names
// the node and the file:line.
func TestPlanResolvesSSHConfig(t *testing.T) {
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
	os.WriteFile(filepath.Join(home, ".ssh", "config"), []byte("Host jira-3\n  ProxyCommand nc %h %p\n"+
		"Host jira-*\n  HostName 10.0.2.1%h\n  User ops\n  Port 2200\n  ProxyJump bastion\nHost bastion\n  HostName 192.0.2.1\n"), 0o600)
	env := map[string]string{"HOME": home}
	getenv := func(k string) string { return env[k] }
	plan := func(defaults, nodes string) (rollout.Plan, error) {
		dir := t.TempDir()
		path := filepath.Join(dir, "reauth.yaml")
		os.WriteFile(path, []byte(defaults+"products:\n  - product: jira\n    home: /h\n    nodes:\n"+nodes), 0o600)
		inv, err := inventory.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		p, closeAll, err := Plan(context.Background(), inv, &inv.Products[0], getenv)
		closeAll()
		return p, err
	}
	route := func(p rollout.Plan, i int) string { return p.Nodes[i].Restarter.(rollout.Router).Route() }
	p, err := plan("", `      - {name: a, url: "http://x:1", restart: {ssh: {host: jira-1, command: c}}}
      - {name: b, url: "http://x:2", restart: {ssh: {host: jira-2, user: deploy, port: 22, proxy_jump: none, command: c}}}
`)
	if err != nil {
		t.Fatal(err)
	}
	if route(p, 0) != "ops@10.0.2.1jira-1:2200 via bastion" || route(p, 1) != "deploy@10.0.2.1jira-2:22" {
		t.Errorf("routes %q, %q", route(p, 0), route(p, 1))
	}
	if rollout.Via(p.Nodes[0]) != "ssh (ops@10.0.2.1jira-1:2200 via bastion)" {
		t.Errorf("via %q", rollout.Via(p.Nodes[0]))
	}
	p, err = plan("defaults: {ssh_config: none}\n", "      - {name: a, url: \"http://x:1\", restart: {ssh: {host: jira-1, user: u, command: c}}}\n")
	if err != nil || route(p, 0) != "u@jira-1:22" {
		t.Errorf("ssh_config none: %v %q", err, route(p, 0))
	}
	_, err = plan("", "      - {name: c, url: \"http://x:3\", restart: {ssh: {host: jira-3, command: c}}}\n")
	if reauth.CodeOf(err) != reauth.ExitUsage || !strings.Contains(err.Error(), "node c: ") ||
		!strings.Contains(err.Error(), filepath.Join(home, ".ssh", "config")+":2: proxycommand applies to jira-3") {
		t.Errorf("unsupported directive: %v", err)
	}
}
