package inventory

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/testenv"
)

// estate is the Ansible inventory of inventory/ansible's tests: group jira (children jira_dc2,
// jira_dc1), host and group vars, group_vars/ and host_vars/.
var estate, _ = filepath.Abs("ansible/testdata/estate/hosts.ini")

func nodesFromInventory(t *testing.T, source, extra string) (*Inventory, error) {
	t.Helper()
	dir := t.TempDir()
	text := fmt.Sprintf(`products:
  - product: jira
    home: /var/atlassian/application-data/jira
    nodes_from:
      ansible: %s
      group: jira
      url_template: "https://{host}:8443"
      restart: {ssh: {command: "sudo systemctl restart jira"%s}}
`, source, extra)
	p := filepath.Join(dir, "reauth.yaml")
	os.WriteFile(p, []byte(text), 0o600)
	return Load(p)
}

// nodeLines are the nodes as "name url host:port user key jump", for comparing.
func nodeLines(inv *Inventory) []string {
	var out []string
	for _, n := range inv.Products[0].Nodes {
		s := n.Restart.SSH
		out = append(out, fmt.Sprintf("%s %s %s:%d %s %s %s", n.Name, n.URL, s.Host, s.Port, s.User, s.KeyFile, s.ProxyJump))
	}
	return out
}

var wantEstate = []string{
	"jira-04 https://10.0.3.14:8443 10.0.3.14:22  ~/.ssh/jira_dc_key ops@bastion2:2022",
	"jira-01 https://jira-01:8443 jira-01:22 ops ~/.ssh/jira_dc_key bastion.example",
	"jira-02 https://jira-02:8443 jira-02:22 ops ~/.ssh/jira_dc_key bastion.example",
	"jira-03 https://10.0.2.13:8443 10.0.2.13:2200 deploy ~/.ssh/jira_dc_key bastion.example",
}

// The nodes come from the Ansible group, in its order, with ansible_host, _port, _user,
// _ssh_private_key_file and the jump host of ansible_ssh_common_args (-J and -o ProxyJump).
func TestNodesFromAnsibleINI(t *testing.T) {
	inv, err := nodesFromInventory(t, estate, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := nodeLines(inv); strings.Join(got, "\n") != strings.Join(wantEstate, "\n") {
		t.Errorf("nodes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantEstate, "\n"))
	}
	if inv.Products[0].NodesFrom == nil || inv.Products[0].Nodes[0].Restart.SSH.Command != "sudo systemctl restart jira" {
		t.Errorf("shared ssh block not applied: %+v", inv.Products[0].Nodes[0].Restart.SSH)
	}
	// The inventory's own ssh fields win over the Ansible variables.
	inv, err = nodesFromInventory(t, estate, ", user: reauth, port: 2022")
	if err != nil {
		t.Fatal(err)
	}
	if s := inv.Products[0].Nodes[3].Restart.SSH; s.User != "reauth" || s.Port != 2022 {
		t.Errorf("reauth.yaml's user/port lost to Ansible's: %+v", s)
	}
}

// The same nodes from the JSON the real ansible-inventory --list prints for that inventory.
func TestNodesFromAnsibleInventoryJSON(t *testing.T) {
	testenv.Slow(t)
	bin, err := exec.LookPath("ansible-inventory")
	if err != nil {
		testenv.Missing(t, "ansible-inventory (Debian's ansible-core package)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-i", estate, "--list")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ansible-inventory: %v", err)
	}
	js := filepath.Join(t.TempDir(), "inventory.json")
	os.WriteFile(js, out, 0o600)
	inv, err := nodesFromInventory(t, js, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := nodeLines(inv); strings.Join(got, "\n") != strings.Join(wantEstate, "\n") {
		t.Errorf("nodes from ansible-inventory --list:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantEstate, "\n"))
	}
}

func TestNodesFromRefusals(t *testing.T) {
	dir := t.TempDir()
	n := 0
	ini := func(text string) string {
		n++
		p := filepath.Join(dir, fmt.Sprintf("h%d.ini", n))
		os.WriteFile(p, []byte(text), 0o600)
		return p
	}
	cases := []struct{ name, source, extra, want string }{
		{"unknown group", ini("[confluence]\nc1\n"), "", `group "jira" has no hosts`},
		{"template", ini("[jira]\nj1 ansible_host=\"{{ lookup('x') }}\"\n"), "", "ansible_host is a Jinja template"},
		{"ProxyCommand", ini("[jira]\nj1 ansible_ssh_common_args='-o ProxyCommand=\"nc %h %p\"'\n"), "", "-o ProxyCommand=nc %h %p is not followed"},
		{"no host key check", ini("[jira]\nj1 ansible_ssh_extra_args='-o StrictHostKeyChecking=no'\n"), "", "StrictHostKeyChecking=no is not followed"},
		{"local connection", ini("[jira]\nj1 ansible_connection=local\n"), "", `ansible_connection is "local"`},
		{"bad order", ini("[jira]\nj1 reauth_restart_order=first\n"), "", "reauth_restart_order"},
		{"host in the shared block", estate, ", host: x", `unknown key "host"`},
		{"missing file", filepath.Join(dir, "nope.ini"), "", "nodes_from:"},
		{"executable script", func() string { p := ini("#!/bin/sh\n"); os.Chmod(p, 0o755); return p }(), "", "dynamic inventory script"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := nodesFromInventory(t, c.source, c.extra)
			if err == nil || !strings.Contains(err.Error(), c.want) || reauth.CodeOf(err) != reauth.ExitUsage {
				t.Errorf("err = %v, want usage error with %q", err, c.want)
			}
		})
	}
}

// reauth_restart_order overrides the group's order; jump hosts come from -J and -o ProxyJump.
func TestNodesFromRestartOrder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "h.ini")
	os.WriteFile(p, []byte("[jira]\nj1\nj2 reauth_restart_order=2\nj3 reauth_restart_order=1 ansible_ssh_common_args=\"-Jops@gw:2022 -o ControlMaster=auto\"\n"), 0o600)
	inv, err := nodesFromInventory(t, p, "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range inv.Products[0].Nodes {
		names = append(names, n.Name)
	}
	if strings.Join(names, ",") != "j3,j2,j1" || inv.Products[0].Nodes[0].Restart.SSH.ProxyJump != "ops@gw:2022" {
		t.Errorf("order %v, jump %q", names, inv.Products[0].Nodes[0].Restart.SSH.ProxyJump)
	}
}

// url_template takes any host variable; commands take {name} and {host}, shell-quoted, and keep
// the shell's own braces.
func TestNodesFromPlaceholders(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "h.ini"), []byte("[jira]\nj1 http_port=8081\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "reauth.yaml"), []byte(`products:
  - product: jira
    home: /h
    nodes_from: {ansible: h.ini, group: jira, url_template: "http://{host}:{http_port}/jira",
                 restart: {ssh: {command: "restart --node {name} --home ${HOME} | awk '{print}'"}}}
`), 0o600)
	inv, err := Load(filepath.Join(dir, "reauth.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	n := inv.Products[0].Nodes[0]
	if n.URL != "http://j1:8081/jira" || n.Restart.SSH.Command != "restart --node j1 --home ${HOME} | awk '{print}'" {
		t.Errorf("url %q command %q", n.URL, n.Restart.SSH.Command)
	}
	os.WriteFile(filepath.Join(dir, "reauth.yaml"), []byte("products:\n  - product: jira\n    home: /h\n"+
		"    nodes_from: {ansible: h.ini, group: jira, url_template: \"http://{host}:{port}\", restart: {ssh: {command: x}}}\n"), 0o600)
	if _, err := Load(filepath.Join(dir, "reauth.yaml")); err == nil || !strings.Contains(err.Error(), "{port}: host j1 has no such variable") {
		t.Errorf("unknown placeholder: %v", err)
	}
}
