package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

// Parse parses an inventory document; name is used in error messages (the file name).
func Parse(data []byte, name string) (*Inventory, error) {
	var doc yaml.Node
	d := &decoder{name: orName(name)}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, d.syntaxError(data, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, d.err(1, "write a mapping with a 'products' list", "empty inventory")
	}
	// A second document (after ---) would be silently ignored: its products never restarted.
	var more yaml.Node
	switch err := dec.Decode(&more); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, d.syntaxError(data, err)
	case len(more.Content) > 0 && more.Content[0].Tag != "!!null": // a bare trailing --- is harmless
		return nil, d.err(more.Content[0].Line, "put every product in the first document's 'products' list and remove the '---'",
			"a second YAML document starts here: an inventory is one document")
	}
	inv := &Inventory{Path: name}
	if err := d.inventory(doc.Content[0], inv); err != nil {
		return nil, err
	}
	return inv, nil
}

func orName(n string) string {
	if n == "" {
		return "inventory"
	}
	return n
}

type decoder struct{ name string }

func (d *decoder) err(line int, hint, format string, args ...any) error {
	return lineError(d.name, line, hint, format, args...)
}

// secretKey reports whether a key names a secret value (which must never be written inline).
func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"password", "passwd", "token", "secret", "passphrase", "api_key", "apikey"} {
		if k == s || strings.HasSuffix(k, "_"+s) {
			return true
		}
	}
	return false
}

// fields walks a mapping node: it refuses non-mappings, duplicate keys, inline secrets and keys
// not in allowed, and returns the values by key.
func (d *decoder) fields(n *yaml.Node, what string, allowed ...string) (map[string]*yaml.Node, error) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return nil, d.err(n.Line, "write "+what+" as a mapping (key: value)", "%s must be a mapping", what)
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		if _, dup := out[key]; dup {
			return nil, d.err(k.Line, "remove one of them", "%s: key %q appears twice", what, key)
		}
		if secretKey(key) {
			return nil, d.err(k.Line, fmt.Sprintf("never write secrets in the inventory: use %s_env (an environment variable) or %s_file (a file readable only by you)", key, key),
				"%s: inline secret %q", what, key)
		}
		if !contains(allowed, key) {
			sorted := append([]string(nil), allowed...)
			sort.Strings(sorted)
			return nil, d.err(k.Line, "known keys here: "+strings.Join(sorted, ", "), "%s: unknown key %q", what, key)
		}
		out[key] = v
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (d *decoder) str(n *yaml.Node, what string) (string, error) {
	if n == nil {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		if n.Tag == "!!null" {
			return "", nil
		}
		return "", d.err(n.Line, "write a single value", "%s must be a string", what)
	}
	return n.Value, nil
}

func (d *decoder) dur(n *yaml.Node, what string) (time.Duration, error) {
	s, err := d.str(n, what)
	if err != nil || s == "" {
		return 0, err
	}
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		return 0, d.err(n.Line, "write a duration with a unit, e.g. 90s, 20m, 1h", "%s: bad duration %q", what, s)
	}
	return v, nil
}

// positive reads a count of at least 1 (0 when absent).
func (d *decoder) positive(n *yaml.Node, what string) (int, error) {
	s, err := d.str(n, what)
	if err != nil || s == "" {
		return 0, err
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 {
		return 0, d.err(n.Line, "write a whole number of at least 1, e.g. 3", "%s: bad count %q", what, s)
	}
	return v, nil
}

// waves reads restart.max_unavailable (a count or a percentage of the nodes) and
// restart.min_serving into p.
func (d *decoder) waves(rf map[string]*yaml.Node, p *Product) error {
	s, err := d.str(rf["max_unavailable"], "restart.max_unavailable")
	if err != nil {
		return err
	}
	if p.MaxUnavailable, err = reauth.ParseUnavailable(s); err != nil {
		return d.err(rf["max_unavailable"].Line, reauth.HintOf(err), "restart.max_unavailable: %v", err)
	}
	p.MinServing, err = d.positive(rf["min_serving"], "restart.min_serving")
	return err
}

// rest is a purge rest ratio: a number from 0 to reauth.MaxPurgeRest.
func (d *decoder) rest(n *yaml.Node, what string) (float64, error) {
	s, err := d.str(n, what)
	if err != nil || s == "" {
		return 0, err
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || v < 0 || v > reauth.MaxPurgeRest {
		return 0, d.err(n.Line, fmt.Sprintf("write a number from 0 (no rest) to %d, e.g. 1: each purge batch is followed by a rest as long as itself", reauth.MaxPurgeRest),
			"%s: bad rest %q", what, s)
	}
	return v, nil
}

func (d *decoder) boolean(n *yaml.Node, what string) (*bool, error) {
	s, err := d.str(n, what)
	if err != nil || s == "" {
		return nil, err
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return nil, d.err(n.Line, "write true or false", "%s: bad boolean %q", what, s)
	}
	return &v, nil
}

func (d *decoder) strs(n *yaml.Node, what string) ([]string, error) {
	if n == nil {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, d.err(n.Line, "write a list, e.g. [a, b]", "%s must be a list", what)
	}
	var out []string
	for _, c := range n.Content {
		s, err := d.str(c, what)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// secretRef reads the <base>_env / <base>_file pair; at most one may be set.
func (d *decoder) secretRef(f map[string]*yaml.Node, base string, line int) (SecretRef, error) {
	r := SecretRef{Line: line}
	var err error
	if r.Env, err = d.str(f[base+"_env"], base+"_env"); err != nil {
		return r, err
	}
	if r.File, err = d.str(f[base+"_file"], base+"_file"); err != nil {
		return r, err
	}
	if r.Env != "" && r.File != "" {
		return r, d.err(line, "keep one of them", "both %s_env and %s_file are set", base, base)
	}
	if n := f[base+"_env"]; n != nil {
		r.Line = n.Line
	} else if n := f[base+"_file"]; n != nil {
		r.Line = n.Line
	}
	return r, nil
}

func (d *decoder) inventory(n *yaml.Node, inv *Inventory) error {
	f, err := d.fields(n, "inventory", "defaults", "products", "include")
	if err != nil {
		return err
	}
	if in := f["include"]; in != nil {
		if inv.Include, err = d.strs(in, "include"); err != nil {
			return err
		}
		inv.IncludeLine = in.Line
		for i, s := range inv.Include {
			if strings.TrimSpace(s) == "" {
				return d.err(in.Content[i].Line, "name an inventory file, relative to this one", "include: empty file name")
			}
		}
	}
	if dn := f["defaults"]; dn != nil {
		df, err := d.fields(dn, "defaults", "start_timeout", "poll_interval", "stable_window", "backup_dir", "audit_log",
			"backup_recipients", "require_encrypted_backups", "parallel", "purge_rest", "ssh_config")
		if err != nil {
			return err
		}
		df2 := &inv.Defaults
		if df2.StartTimeout, err = d.dur(df["start_timeout"], "start_timeout"); err != nil {
			return err
		}
		if df2.PollInterval, err = d.dur(df["poll_interval"], "poll_interval"); err != nil {
			return err
		}
		if df2.StableWindow, err = d.dur(df["stable_window"], "stable_window"); err != nil {
			return err
		}
		if df2.BackupDir, err = d.str(df["backup_dir"], "backup_dir"); err != nil {
			return err
		}
		if df2.AuditLog, err = d.str(df["audit_log"], "audit_log"); err != nil {
			return err
		}
		if df2.BackupRecipients, err = d.strs(df["backup_recipients"], "backup_recipients"); err != nil {
			return err
		}
		req, err := d.boolean(df["require_encrypted_backups"], "require_encrypted_backups")
		if err != nil {
			return err
		}
		df2.RequireEncryptedBackups = req != nil && *req
		if df2.Parallel, err = d.positive(df["parallel"], "parallel"); err != nil {
			return err
		}
		if df2.PurgeRest, err = d.rest(df["purge_rest"], "purge_rest"); err != nil {
			return err
		}
		if df2.SSHConfig, err = d.sshConfigFiles(df["ssh_config"]); err != nil {
			return err
		}
	}
	pn := f["products"]
	if pn == nil && len(inv.Include) > 0 {
		return nil // an estate file: its products are in the files it includes
	}
	if pn == nil || pn.Kind != yaml.SequenceNode || len(pn.Content) == 0 {
		line := n.Line
		if pn != nil {
			line = pn.Line
		}
		return d.err(line, "add a 'products:' list with at least one product (or an 'include:' list of inventory files)", "no products")
	}
	seen := map[atlassian.ProductID]int{}
	for _, c := range pn.Content {
		var p Product
		if err := d.product(c, &p); err != nil {
			return err
		}
		if prev, dup := seen[p.ID]; dup {
			return d.err(p.Line, "list each product once", "product %s already listed at line %d", p.ID, prev)
		}
		seen[p.ID] = p.Line
		inv.Products = append(inv.Products, p)
	}
	return nil
}

func (d *decoder) product(n *yaml.Node, p *Product) error {
	f, err := d.fields(n, "product", "product", "home", "database", "install", "table", "status_path", "exclude_users",
		"backup_recipients", "canary", "admin", "mode", "start_timeout", "drain", "kubernetes", "nodes", "proof_user", "proof_cookie",
		"app_token_rule", "sso", "whoami_path", "restart", "hazelcast_http_sessions", "nodes_from", "idp", "pat_table", "base_url")
	if err != nil {
		return err
	}
	p.Line = n.Line
	id, err := d.str(f["product"], "product")
	if err != nil {
		return err
	}
	if id == "" {
		return d.err(n.Line, "add 'product: jira' (or confluence, bitbucket, bamboo, fisheye, crowd)", "product entry without 'product'")
	}
	prod, err := atlassian.Lookup(id)
	if err != nil {
		return d.err(f["product"].Line, "use one of "+strings.Join(atlassian.Names(), ", "), "%v", err)
	}
	p.ID, p.Name = prod.ID, string(prod.ID)
	for key, dst := range map[string]*string{"home": &p.Home, "install": &p.Install, "table": &p.Table, "status_path": &p.StatusPath,
		"whoami_path": &p.WhoAmIPath, "mode": &p.Mode,
		"proof_user": &p.ProofUser, "proof_cookie": &p.ProofCookie, "pat_table": &p.PATTable} {
		if *dst, err = d.str(f[key], key); err != nil {
			return err
		}
	}
	if err := d.baseURL(f["base_url"], p); err != nil {
		return err
	}
	if p.ProofCookie != "" {
		if err := atlassian.CheckProofFormat(p.ProofCookie); err != nil {
			return d.err(f["proof_cookie"].Line, "write the format as the product builds its remember-me cookie, e.g. \"{id}:{token}\"", "%v", err)
		}
	}
	if rn := f["app_token_rule"]; rn != nil {
		v, err := d.str(rn, "app_token_rule")
		if err != nil {
			return err
		}
		if prod.Table.Keep.IsZero() {
			return d.err(rn.Line, "remove app_token_rule: only Crowd's token table holds application tokens",
				"app_token_rule: %s's token table has no application tokens", prod.Name)
		}
		if p.AppTokenRule, err = atlassian.ParseRowRule(v); err != nil {
			return d.err(rn.Line, "write it as \"column = integer\", e.g. app_token_rule: \"directory_id = -1\"", "app_token_rule: %v", err)
		}
	}
	if sn := f["sso"]; sn != nil {
		if p.SSO, err = d.str(sn, "sso"); err != nil {
			return err
		}
		switch {
		case p.SSO == "" || p.SSO == "none":
		case p.SSO == string(atlassian.Crowd) && prod.ID != atlassian.Crowd:
		default:
			return d.err(sn.Line, "use sso: crowd on an application that signs in through Crowd (or sso: none)",
				"sso: %q is not a single sign-on reauth knows for %s", p.SSO, prod.Name)
		}
	}
	switch p.Mode {
	case "", "auto", "restart", "api":
	default:
		return d.err(f["mode"].Line, "use auto, restart or api", "mode: unknown value %q", p.Mode)
	}
	if rn := f["restart"]; rn != nil {
		rf, err := d.fields(rn, "restart", "strategy", "max_unavailable", "min_serving")
		if err != nil {
			return err
		}
		if err := d.waves(rf, p); err != nil {
			return err
		}
		if p.RestartStrategy, err = d.str(rf["strategy"], "strategy"); err != nil {
			return err
		}
		switch p.RestartStrategy {
		case "", "rolling", "full":
		default:
			return d.err(rf["strategy"].Line, "use rolling (one node at a time) or full (every node stopped, then started)", "restart.strategy: unknown value %q", p.RestartStrategy)
		}
	}
	if hn := f["hazelcast_http_sessions"]; hn != nil {
		if p.HazelcastHTTPSessions, err = d.str(hn, "hazelcast_http_sessions"); err != nil {
			return err
		}
		if p.ID != atlassian.Bitbucket {
			return d.err(hn.Line, "remove it: only Bitbucket has hazelcast.http.sessions", "hazelcast_http_sessions is a Bitbucket setting, not %s's", p.ID)
		}
		switch p.HazelcastHTTPSessions {
		case "local", "sticky", "replicated":
		default:
			return d.err(hn.Line, "use local, sticky or replicated (as in bitbucket.properties)", "hazelcast_http_sessions: unknown value %q", p.HazelcastHTTPSessions)
		}
	}
	if p.StatusPath != "" && !strings.HasPrefix(p.StatusPath, "/") {
		return d.err(f["status_path"].Line, "write an absolute path such as /status", "status_path must start with /")
	}
	if p.WhoAmIPath != "" && (!strings.HasPrefix(p.WhoAmIPath, "/") || strings.ContainsAny(p.WhoAmIPath, "?# ")) {
		return d.err(f["whoami_path"].Line, "write an absolute path such as /rest/auth/1/session", "whoami_path must be a path starting with / (no query)")
	}
	if p.BackupRecipients, err = d.strs(f["backup_recipients"], "backup_recipients"); err != nil {
		return err
	}
	if p.ExcludeUsers, err = d.strs(f["exclude_users"], "exclude_users"); err != nil {
		return err
	}
	if p.StartTimeout, err = d.dur(f["start_timeout"], "start_timeout"); err != nil {
		return err
	}
	if dn := f["database"]; dn != nil {
		df, err := d.fields(dn, "database", "jdbc_url", "user", "password_env", "password_file", "from", "user_env", "user_file")
		if err != nil {
			return err
		}
		p.Database = &Database{}
		if p.Database.JDBCURL, err = d.str(df["jdbc_url"], "jdbc_url"); err != nil {
			return err
		}
		if db, err := atlassian.ParseJDBCURL(p.Database.JDBCURL); err == nil && !db.Password.IsZero() {
			return d.err(df["jdbc_url"].Line, "remove the password from jdbc_url and give it with password_env (an environment variable) or password_file",
				"database: jdbc_url carries a password (not shown)")
		}
		if p.Database.User, err = d.str(df["user"], "user"); err != nil {
			return err
		}
		if p.Database.Password, err = d.secretRef(df, "password", dn.Line); err != nil {
			return err
		}
		if err := d.databaseFrom(df, dn.Line, p.Database); err != nil {
			return err
		}
	}
	if cn := f["canary"]; cn != nil {
		cf, err := d.fields(cn, "canary", "user", "password_env", "password_file")
		if err != nil {
			return err
		}
		p.Canary = &Credential{}
		if p.Canary.User, err = d.str(cf["user"], "user"); err != nil {
			return err
		}
		if p.Canary.Password, err = d.secretRef(cf, "password", cn.Line); err != nil {
			return err
		}
	}
	if an := f["admin"]; an != nil {
		af, err := d.fields(an, "admin", "user", "password_env", "password_file", "token_env", "token_file")
		if err != nil {
			return err
		}
		p.Admin = &Admin{}
		if p.Admin.User, err = d.str(af["user"], "user"); err != nil {
			return err
		}
		if p.Admin.Password, err = d.secretRef(af, "password", an.Line); err != nil {
			return err
		}
		if p.Admin.Token, err = d.secretRef(af, "token", an.Line); err != nil {
			return err
		}
	}
	if dn := f["drain"]; dn != nil {
		df, err := d.fields(dn, "drain", "before", "after", "after_on_failure")
		if err != nil {
			return err
		}
		if p.Drain.Before, err = d.str(df["before"], "before"); err != nil {
			return err
		}
		if p.Drain.After, err = d.str(df["after"], "after"); err != nil {
			return err
		}
		aof, err := d.boolean(df["after_on_failure"], "after_on_failure")
		if err != nil {
			return err
		}
		p.Drain.AfterOnFailure = aof != nil && *aof
	}
	if in := f["idp"]; in != nil {
		if p.IdP, err = d.idpHook(in); err != nil {
			return err
		}
	}
	if kn := f["kubernetes"]; kn != nil {
		if p.Kubernetes, err = d.kubernetes(kn); err != nil {
			return err
		}
	}
	nn := f["nodes"]
	if nn != nil && (nn.Kind != yaml.SequenceNode) {
		return d.err(nn.Line, "write nodes as a list of '- name: ...' entries", "nodes must be a list")
	}
	if p.Kubernetes != nil && nn != nil && len(nn.Content) > 0 {
		return d.err(nn.Line, "remove 'nodes': with 'kubernetes' the nodes are the StatefulSet's pods", "product %s has both kubernetes and nodes", p.ID)
	}
	if fn := f["nodes_from"]; fn != nil {
		return d.nodesFromProduct(fn, nn, p)
	}
	if p.Kubernetes == nil && (nn == nil || len(nn.Content) == 0) {
		return d.err(n.Line, "list the product's nodes under 'nodes:' (or give 'kubernetes:' or 'nodes_from:')", "product %s has no nodes", p.ID)
	}
	if nn == nil {
		return nil
	}
	names := map[string]int{}
	for _, c := range nn.Content {
		var node Node
		if err := d.node(c, &node); err != nil {
			return err
		}
		if prev, dup := names[node.Name]; dup {
			return d.err(node.Line, "give every node a unique name", "duplicate node name %q (first at line %d)", node.Name, prev)
		}
		names[node.Name] = node.Line
		p.Nodes = append(p.Nodes, node)
	}
	return nil
}

// idpHook reads idp: {command: "...", timeout: 2m}: the command that ends the identity
// provider's sessions, run by `reauth run` without the secrets reauth read (like the drain hooks).
func (d *decoder) idpHook(n *yaml.Node) (*IdPHook, error) {
	f, err := d.fields(n, "idp", "command", "timeout")
	if err != nil {
		return nil, err
	}
	h := &IdPHook{Line: n.Line}
	if h.Command, err = d.str(f["command"], "command"); err != nil {
		return nil, err
	}
	if h.Command == "" {
		return nil, d.err(n.Line, "write idp: {command: \"...\"} with the command that ends the identity provider's sessions", "idp has no command")
	}
	if h.Timeout, err = d.dur(f["timeout"], "timeout"); err != nil {
		return nil, err
	}
	return h, nil
}
