package inventory

import (
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/inventory/ansible"
)

// NodesFrom is where a product's nodes were read from instead of a nodes: list.
type NodesFrom struct {
	Ansible string // the Ansible inventory file or directory, or ansible-inventory --list JSON
	Group   string
	// URLTemplate gives each node's URL: {name} is the inventory host name, {host} ansible_host
	// (else the name), {VAR} any host variable. Commands may hold the same placeholders.
	URLTemplate string
	Line        int
}

// nodesFromProduct reads nodes_from: and turns the Ansible group's hosts into the product's
// nodes, in the group's order (or by the reauth_restart_order host variable, where hosts set it).
func (d *decoder) nodesFromProduct(n, nodes *yaml.Node, p *Product) error {
	if nodes != nil && len(nodes.Content) > 0 {
		return d.err(n.Line, "keep one of them: nodes_from reads every node from the Ansible inventory", "product %s has both nodes and nodes_from", p.ID)
	}
	if p.Kubernetes != nil {
		return d.err(n.Line, "keep one of them", "product %s has both kubernetes and nodes_from", p.ID)
	}
	f, err := d.fields(n, "nodes_from", "ansible", "group", "url_template", "install", "restart")
	if err != nil {
		return err
	}
	nf := &NodesFrom{Line: n.Line}
	for key, dst := range map[string]*string{"ansible": &nf.Ansible, "group": &nf.Group, "url_template": &nf.URLTemplate} {
		if *dst, err = d.str(f[key], key); err != nil {
			return err
		}
		if *dst == "" {
			return d.err(n.Line, "nodes_from needs ansible: FILE_OR_DIR, group: NAME and url_template: \"https://{host}:8443\"", "nodes_from: %s is missing", key)
		}
	}
	if hasUserinfo(nf.URLTemplate) {
		return d.err(f["url_template"].Line, credentialsHint, "nodes_from: url_template carries a user name or password (not shown)")
	}
	install, err := d.str(f["install"], "install")
	if err != nil {
		return err
	}
	rn := f["restart"]
	if rn == nil {
		return d.err(n.Line, "add restart: {ssh: {command: \"sudo systemctl restart jira\"}} (the hosts come from the Ansible inventory)", "nodes_from: no restart method")
	}
	rf, err := d.fields(rn, "restart", "ssh")
	if err != nil {
		return err
	}
	if rf["ssh"] == nil {
		return d.err(rn.Line, "add ssh: {command: ...}", "nodes_from: restart needs ssh")
	}
	shared, err := d.ssh(rf["ssh"], "nodes_from", true)
	if err != nil {
		return err
	}
	path := nf.Ansible
	if !filepath.IsAbs(path) && d.name != "inventory" {
		path = filepath.Join(filepath.Dir(d.name), path)
	}
	ai, err := ansible.Load(path)
	if err != nil {
		return d.err(f["ansible"].Line, "point nodes_from.ansible at an Ansible inventory (INI or YAML file, a directory of them, or the JSON of ansible-inventory --list)",
			"nodes_from: %v", err)
	}
	hosts, ok := ai.Hosts(nf.Group)
	if !ok || len(hosts) == 0 {
		return d.err(f["group"].Line, "use one of the inventory's groups: "+strings.Join(ai.Groups(), ", "), "nodes_from: group %q has no hosts in %s", nf.Group, nf.Ansible)
	}
	if err := sortByRestartOrder(hosts); err != nil {
		return d.err(n.Line, "set reauth_restart_order to a whole number on the hosts that need an order", "nodes_from: %v", err)
	}
	for _, h := range hosts {
		node, err := ansibleNode(h, nf, shared, install)
		if err != nil {
			return d.err(n.Line, "fix the host's variables in the Ansible inventory, or list the node under nodes: instead", "nodes_from: host %s: %v", h.Name, err)
		}
		node.Line = n.Line
		p.Nodes = append(p.Nodes, node)
	}
	p.NodesFrom = nf
	return nil
}

// sortByRestartOrder orders hosts by reauth_restart_order (hosts without it keep their place
// among themselves, after those with it).
func sortByRestartOrder(hosts []ansible.Host) error {
	order := map[string]int{}
	for _, h := range hosts {
		v, ok := h.Vars["reauth_restart_order"]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("host %s: reauth_restart_order %q is not a number", h.Name, v)
		}
		order[h.Name] = n
	}
	sort.SliceStable(hosts, func(i, j int) bool {
		a, aok := order[hosts[i].Name]
		b, bok := order[hosts[j].Name]
		if aok != bok {
			return aok
		}
		return a < b
	})
	return nil
}

// ansibleNode is one Ansible host as a node: the shared ssh block, with the host's address,
// port, user, key and jump hosts where the block leaves them unset.
func ansibleNode(h ansible.Host, nf *NodesFrom, shared *SSH, install string) (Node, error) {
	v := func(keys ...string) string {
		for _, k := range keys {
			if s, ok := h.Vars[k]; ok && s != "" {
				return s
			}
		}
		return ""
	}
	for _, k := range []string{"ansible_host", "ansible_ssh_host", "ansible_port", "ansible_ssh_port", "ansible_user", "ansible_ssh_user",
		"ansible_ssh_private_key_file", "ansible_ssh_common_args", "ansible_ssh_extra_args", "ansible_connection"} {
		if strings.Contains(h.Vars[k], "{{") {
			return Node{}, fmt.Errorf("%s is a Jinja template, which reauth does not render: give reauth the JSON of ansible-inventory --list, or a plain value", k)
		}
	}
	switch c := v("ansible_connection"); c {
	case "", "ssh", "smart", "paramiko":
	default:
		return Node{}, fmt.Errorf("ansible_connection is %q: reauth's ssh method reaches hosts over ssh only", c)
	}
	s := *shared
	addr := v("ansible_host", "ansible_ssh_host")
	if addr == "" {
		addr = h.Name // ssh then resolves the name through ~/.ssh/config, as Ansible's ssh does
	}
	s.Host = addr
	if p := v("ansible_port", "ansible_ssh_port"); p != "" && s.Port == 0 {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Node{}, fmt.Errorf("ansible_port %q is not a port", p)
		}
		s.Port = n
	}
	if s.User == "" {
		s.User = v("ansible_user", "ansible_ssh_user")
	}
	if s.KeyFile == "" {
		s.KeyFile = v("ansible_ssh_private_key_file", "ansible_private_key_file")
	}
	for _, k := range []string{"ansible_ssh_common_args", "ansible_ssh_extra_args"} {
		if err := sshArgs(h.Vars[k], k, &s); err != nil {
			return Node{}, err
		}
	}
	u, err := fillTemplate(nf.URLTemplate, h, addr, false)
	if err != nil {
		return Node{}, fmt.Errorf("url_template: %v", err)
	}
	if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || hasUserinfo(u) {
		return Node{}, fmt.Errorf("url_template gives %q, not a node URL", u)
	}
	for _, cmd := range []*string{&s.Command, &s.Stop, &s.Start} {
		if *cmd, err = fillTemplate(*cmd, h, addr, true); err != nil {
			return Node{}, fmt.Errorf("restart command: %v", err)
		}
	}
	return Node{Name: h.Name, URL: u, Install: install, Restart: Restart{SSH: &s}}, nil
}

// fillTemplate replaces {name} (the inventory host name), {host} (ansible_host, else the name)
// and {VAR} (any host variable) in a URL template. In a command (quote) only {name} and {host}
// are replaced, shell-quoted: other braces belong to the shell (${VAR}, awk '{…}').
func fillTemplate(t string, h ansible.Host, addr string, quote bool) (string, error) {
	var b strings.Builder
	for {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			b.WriteString(t)
			return b.String(), nil
		}
		j := strings.IndexByte(t[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("%q: { without }", t)
		}
		key := t[i+1 : i+j]
		val, ok := h.Vars[key]
		switch key {
		case "name":
			val, ok = h.Name, true
		case "host":
			val, ok = addr, true
		}
		if quote && key != "name" && key != "host" {
			b.WriteString(t[:i+j+1])
			t = t[i+j+1:]
			continue
		}
		if !ok {
			return "", fmt.Errorf("{%s}: host %s has no such variable (placeholders: {name}, {host}, or a host variable)", key, h.Name)
		}
		if strings.Contains(val, "{{") {
			return "", fmt.Errorf("{%s} is a Jinja template, which reauth does not render", key)
		}
		if quote {
			val = reauth.ShellQuote(val)
		}
		b.WriteString(t[:i])
		b.WriteString(val)
		t = t[i+j+1:]
	}
}

// harmlessSSHOptions are ssh -o options that change nothing about where, as whom or with which
// trust reauth connects (Ansible's own defaults among them): read and left to ssh.
var harmlessSSHOptions = map[string]bool{"controlmaster": true, "controlpersist": true, "controlpath": true,
	"serveraliveinterval": true, "serveralivecountmax": true, "compression": true, "forwardagent": true,
	"tcpkeepalive": true, "connecttimeout": true, "preferredauthentications": true, "identitiesonly": true}

// sshArgs reads what reauth can take from ansible_ssh_common_args / _extra_args: -J and
// -o ProxyJump (the jump hosts) and -o UserKnownHostsFile. Options that would change the
// connection in a way reauth cannot follow (ProxyCommand, -o StrictHostKeyChecking=no, -L, …)
// are refused, not dropped.
func sshArgs(args, name string, s *SSH) error {
	if strings.TrimSpace(args) == "" {
		return nil
	}
	words, err := shellSplit(args)
	if err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		var opt string
		switch {
		case w == "-J" || w == "-o":
			if i+1 >= len(words) {
				return fmt.Errorf("%s: %s without a value", name, w)
			}
			i++
			if w == "-J" {
				opt = "proxyjump=" + words[i]
			} else {
				opt = words[i]
			}
		case strings.HasPrefix(w, "-J"):
			opt = "proxyjump=" + w[2:]
		case strings.HasPrefix(w, "-o"):
			opt = w[2:]
		default:
			return fmt.Errorf("%s: %q is not an ssh option reauth follows (it reads -J and -o ProxyJump/UserKnownHostsFile): "+
				"put it in ~/.ssh/config for these hosts, or restart them with exec and your system ssh", name, w)
		}
		key, val, ok := strings.Cut(opt, "=")
		if !ok {
			key, val, _ = strings.Cut(opt, " ")
		}
		key, val = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(val)
		switch {
		case key == "proxyjump":
			if s.ProxyJump == "" {
				s.ProxyJump = val
			}
		case key == "userknownhostsfile":
			if s.KnownHosts == "" {
				s.KnownHosts = val
			}
		case key == "stricthostkeychecking" && (strings.EqualFold(val, "yes") || strings.EqualFold(val, "ask")):
		case harmlessSSHOptions[key]:
		default:
			return fmt.Errorf("%s: -o %s is not followed by reauth's SSH client (it never accepts an unknown host key, and runs no proxy command): "+
				"remove it for these hosts, or restart them with exec and your system ssh", name, opt)
		}
	}
	return nil
}

// shellSplit splits ssh arguments as a shell would: quotes and backslashes.
func shellSplit(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if in {
				out, in = append(out, cur.String()), false
				cur.Reset()
			}
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unterminated quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i, in = i+1+j, true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			in = true
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}
