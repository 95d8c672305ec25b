package inventory

import (
	"net/url"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

func (d *decoder) kubernetes(n *yaml.Node) (*Kubernetes, error) {
	f, err := d.fields(n, "kubernetes", "namespace", "statefulset", "context", "kubeconfig", "service", "url_template")
	if err != nil {
		return nil, err
	}
	k := &Kubernetes{Line: n.Line}
	for key, dst := range map[string]*string{"namespace": &k.Namespace, "statefulset": &k.StatefulSet, "context": &k.Context,
		"kubeconfig": &k.Kubeconfig, "service": &k.Service, "url_template": &k.URLTemplate} {
		if *dst, err = d.str(f[key], key); err != nil {
			return nil, err
		}
	}
	if hasUserinfo(k.URLTemplate) {
		return nil, d.err(f["url_template"].Line, credentialsHint, "kubernetes: url_template carries a user name or password (not shown)")
	}
	if hasQuery(k.URLTemplate) {
		return nil, d.err(f["url_template"].Line, queryHint, "kubernetes: url_template carries a query or fragment (not shown)")
	}
	if k.StatefulSet == "" {
		return nil, d.err(n.Line, "add 'statefulset: <name>' (the StatefulSet's name, or the Helm release's: reauth finds the StatefulSet by its release label)", "kubernetes: statefulset is required")
	}
	return k, nil
}

func (d *decoder) node(n *yaml.Node, node *Node) error {
	f, err := d.fields(n, "node", "name", "url", "install", "restart")
	if err != nil {
		return err
	}
	node.Line = n.Line
	if node.Name, err = d.str(f["name"], "name"); err != nil {
		return err
	}
	if node.Name == "" {
		return d.err(n.Line, "add 'name: node1'", "node without a name")
	}
	if node.URL, err = d.str(f["url"], "url"); err != nil {
		return err
	}
	if node.URL == "" {
		return d.err(n.Line, "add 'url: http://host:port' (the node's own address, not the load balancer)", "node %q has no url", node.Name)
	}
	if hasUserinfo(node.URL) {
		return d.err(f["url"].Line, credentialsHint, "node %q: url carries a user name or password (not shown)", node.Name)
	}
	if hasQuery(node.URL) {
		return d.err(f["url"].Line, queryHint, "node %q: url carries a query or fragment (not shown)", node.Name)
	}
	if u, err := url.Parse(node.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return d.err(f["url"].Line, "write the node's base URL, e.g. http://10.0.0.11:8080", "node %q: bad url %q", node.Name, node.URL)
	}
	if node.Install, err = d.str(f["install"], "install"); err != nil {
		return err
	}
	rn := f["restart"]
	if rn == nil {
		return d.err(n.Line, "add 'restart: {exec: {command: ...}}' or 'restart: {ssh: {...}}'", "node %q has no restart method", node.Name)
	}
	rf, err := d.fields(rn, "restart", "exec", "ssh")
	if err != nil {
		return err
	}
	if (rf["exec"] == nil) == (rf["ssh"] == nil) {
		return d.err(rn.Line, "give exactly one of exec or ssh", "node %q: restart needs exactly one method", node.Name)
	}
	if en := rf["exec"]; en != nil {
		node.Restart.Exec, err = d.exec(en, node.Name)
	} else {
		node.Restart.SSH, err = d.ssh(rf["ssh"], node.Name, false)
	}
	return err
}

// commands reads command / stop / start: either command alone, or stop and start together.
func (d *decoder) commands(f map[string]*yaml.Node, line int, node string) (cmd, stop, start string, err error) {
	if cmd, err = d.str(f["command"], "command"); err != nil {
		return
	}
	if stop, err = d.str(f["stop"], "stop"); err != nil {
		return
	}
	if start, err = d.str(f["start"], "start"); err != nil {
		return
	}
	switch {
	case cmd != "" && (stop != "" || start != ""):
		err = d.err(line, "use either command, or stop and start", "node %q: command and stop/start are both set", node)
	case cmd == "" && (stop == "") != (start == ""):
		err = d.err(line, "give both stop and start", "node %q: stop and start go together", node)
	case cmd == "" && stop == "":
		err = d.err(line, "add 'command: ...' (or stop and start)", "node %q: no restart command", node)
	}
	return
}

func (d *decoder) exec(n *yaml.Node, node string) (*Exec, error) {
	f, err := d.fields(n, "exec", "command", "stop", "start", "timeout")
	if err != nil {
		return nil, err
	}
	e := &Exec{}
	if e.Command, e.Stop, e.Start, err = d.commands(f, n.Line, node); err != nil {
		return nil, err
	}
	if e.Timeout, err = d.dur(f["timeout"], "timeout"); err != nil {
		return nil, err
	}
	return e, nil
}

// ssh reads a node's ssh block; shared is nodes_from's, whose hosts come from elsewhere.
func (d *decoder) ssh(n *yaml.Node, node string, shared bool) (*SSH, error) {
	keys := []string{"port", "user", "command", "stop", "start", "key_file", "known_hosts",
		"agent", "tty", "connect_timeout", "timeout", "proxy_jump"}
	if !shared {
		keys = append(keys, "host")
	}
	f, err := d.fields(n, "ssh", keys...)
	if err != nil {
		return nil, err
	}
	s := &SSH{}
	for key, dst := range map[string]*string{"host": &s.Host, "user": &s.User, "key_file": &s.KeyFile, "known_hosts": &s.KnownHosts,
		"proxy_jump": &s.ProxyJump} {
		if *dst, err = d.str(f[key], key); err != nil {
			return nil, err
		}
	}
	if s.Host == "" && !shared {
		return nil, d.err(n.Line, "add 'host: <address>' (an address, or a Host alias of your ~/.ssh/config)", "node %q: ssh needs a host", node)
	}
	if strings.Contains(s.Host, "@") {
		return nil, d.err(f["host"].Line, "write only the address in host, the login in 'user:', and the key in 'key_file:' (passwords are not used)",
			"node %q: ssh host carries a user name or password (not shown)", node)
	}
	if pn := f["port"]; pn != nil {
		ps, _ := d.str(pn, "port")
		if s.Port, err = strconv.Atoi(ps); err != nil || s.Port < 1 || s.Port > 65535 {
			return nil, d.err(pn.Line, "write a port number, e.g. 22", "node %q: bad ssh port %q", node, ps)
		}
	}
	if s.Command, s.Stop, s.Start, err = d.commands(f, n.Line, node); err != nil {
		return nil, err
	}
	if s.Agent, err = d.boolean(f["agent"], "agent"); err != nil {
		return nil, err
	}
	tty, err := d.boolean(f["tty"], "tty")
	if err != nil {
		return nil, err
	}
	s.TTY = tty != nil && *tty
	if s.ConnectTimeout, err = d.dur(f["connect_timeout"], "connect_timeout"); err != nil {
		return nil, err
	}
	if s.Timeout, err = d.dur(f["timeout"], "timeout"); err != nil {
		return nil, err
	}
	return s, nil
}

// baseURL reads a product's base_url: the address users reach it by (load balancer, CDN), where
// the proof replays its cookies too.
func (d *decoder) baseURL(n *yaml.Node, p *Product) error {
	if n == nil {
		return nil
	}
	v, err := d.str(n, "base_url")
	if err != nil {
		return err
	}
	if hasUserinfo(v) {
		return d.err(n.Line, credentialsHint, "base_url carries a user name or password (not shown)")
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return d.err(n.Line, "write the URL users open, e.g. https://jira.example.com (or https://example.com/jira), without a query", "bad base_url %q", v)
	}
	p.BaseURL = strings.TrimSuffix(v, "/")
	return nil
}

// credentialsHint is what to do instead of credentials in a URL: they would be printed in the
// plan, in errors and in --json, and they are never how reauth authenticates to a node anyway.
const credentialsHint = "remove the user:password@ part: the node URL is printed in plans, errors and --json. " +
	"reauth talks to the product with admin: {user: ..., token_env: ...} (or password_env / token_file), never with URL credentials"

// queryHint says why a node URL may not carry "?…": reauth appends the status, login and API paths
// to it (a query would end up in the middle of every request), and the URL is printed where a
// ?token=… must not be.
const queryHint = "write the node's base URL without '?' or '#' (e.g. http://10.0.0.11:8080/jira): reauth appends its paths to it " +
	"and prints it in plans, errors and --json; a token belongs in admin: {token_env: ...} (or token_file)"

// hasQuery reports whether a node URL (or URL template) has a query or a fragment.
func hasQuery(raw string) bool { return strings.ContainsAny(raw, "?#") }

// hasUserinfo reports whether a node URL (or URL template) may carry a user:password@ part: it has
// an @ anywhere. A node's base URL never needs one, and a malformed URL (http://u:p/w@host) hides
// its userinfo from url.Parse, so the text is what is looked at.
func hasUserinfo(raw string) bool { return strings.Contains(raw, "@") }
