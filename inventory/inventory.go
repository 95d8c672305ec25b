// Package inventory reads reauth.yaml, the operator's description of the products, their nodes and
// how to restart each node. The file is parsed strictly: an unknown key, a duplicate node name, a node
// without a URL or a restart method, a product without nodes (or kubernetes), or a secret written
// inline is an error that names the line, so that a typo never silently changes what gets restarted.
//
// Schema (every key; anything else is refused):
//
//	defaults: {start_timeout: 20m, poll_interval: 2s, stable_window: 10s, backup_dir: DIR, audit_log: FILE,
//	           backup_recipients: [age1…, "ssh-ed25519 …", recipients-file], require_encrypted_backups: false,
//	           parallel: 3,                 # products worked on at once by reauth run (default: all)
//	           purge_rest: 1,               # rest after each purge batch, × its time (default 0: none)
//	           ssh_config: [~/.ssh/config]} # OpenSSH client configs the ssh method reads (default; none: none)
//	include: [team-a/reauth.yaml, ../emea.yaml]   # other inventory files, relative to this one
//	products:
//	  - product: jira                    # jira|confluence|bitbucket|bamboo|fisheye|crowd
//	    home: /var/atlassian/application-data/jira
//	    database: {jdbc_url: ..., user: ..., password_env: ..., password_file: ...}   # instead of / besides home
//	    database: {from: statefulset, user_env: ..., password_env: ...}   # with kubernetes: the URL from the StatefulSet's env
//	    install: /opt/atlassian/jira     # optional, product-wide default for nodes[].install
//	    table: ...                       # optional token-table override
//	    status_path: /status             # optional readiness path override (Fisheye's is UNCONFIRMED)
//	    whoami_path: /rest/auth/1/session  # optional "who am I" path the proof replays cookies against (Crowd has none documented)
//	    base_url: https://jira.example.com   # optional: the load balancer or CDN users reach; the proof replays there too
//	    exclude_users: [admin-breakglass]
//	    backup_recipients: [age1…]       # added to defaults.backup_recipients for this product
//	    canary: {user: ..., password_env: ..., password_file: ...}
//	    proof_user: admin                # the account of reauth's minted proof token (default: admin's user)
//	    proof_cookie: "{id}:{token}"     # confirms/overrides the remember-me cookie format (UNCONFIRMED for Bitbucket, Fisheye)
//	    app_token_rule: "directory_id = -1"  # crowd only: the cwd_token rows that are applications' tokens (never deleted)
//	    sso: crowd                       # crowd|none: this application trusts Crowd SSO (default: detected from its install)
//	    admin: {user: ..., password_env/_file: ..., token_env/_file: ...}
//	    mode: auto                       # auto|restart|api
//	    restart: {strategy: rolling}     # rolling (one node at a time) | full (stop every node, then start)
//	    restart: {max_unavailable: 2, min_serving: 1}  # rolling in waves of 2 (or "34%" of the nodes); >= 1 node RUNNING
//	    hazelcast_http_sessions: local   # Bitbucket: states hazelcast.http.sessions (local|sticky|replicated)
//	    start_timeout: 30m
//	    drain: {before: "cmd", after: "cmd"}
//	    idp: {command: "cmd", timeout: 2m} # ends the SSO identity provider's sessions, before the purge
//	    pat_table: NAME                  # the personal access token table where it is UNCONFIRMED (Bamboo)
//	    kubernetes: {namespace, statefulset, context, kubeconfig, service, url_template}
//	    nodes_from: {ansible: hosts.ini, group: jira, url_template: "https://{host}:8443",   # instead of nodes:
//	                 install: DIR, restart: {ssh: {command: ..., …}}}   # the ssh block of a node, without host
//	    nodes:
//	      - name: node1
//	        url: http://10.0.0.11:8080
//	        install: /opt/atlassian/jira
//	        restart:
//	          exec: {command: "...", stop: "...", start: "...", timeout: 10m}
//	          ssh: {host, port, user, command, stop, start, key_file, known_hosts, agent, tty,
//	                connect_timeout, timeout, proxy_jump}   # host may be an ssh_config alias
//
// Additions to the schema, each needed by a feature: status_path (the Fisheye readiness
// path is UNCONFIRMED and must be overridable), kubernetes.service (the {service} of url_template;
// default: the StatefulSet name), ssh stop/start (to remove SESSIONS.ser while the node is down),
// ssh tty (some sudoers require a terminal), ssh connect_timeout, restart.strategy (Bitbucket's Hazelcast
// HTTP sessions outlive a rolling restart), hazelcast_http_sessions (the setting where reauth cannot
// read it: an image's environment, a Kubernetes pod).
//
// Secrets are only referenced: password_env/password_file, token_env/token_file. Relative file
// paths are relative to the directory of the inventory file.
package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/boundedfile"
)

// Inventory is a parsed reauth.yaml, or several (Load follows include:, LoadAll takes several
// files): then Path, Dir and Defaults are the first file's, Products are every file's, and each
// product's own file (FileOf) resolves its relative paths and gives its defaults.
type Inventory struct {
	Path     string // the file it came from ("" for Parse with no name)
	Dir      string // its directory: relative paths are resolved against it
	Defaults Defaults
	Products []Product
	// Include lists the inventory files this one includes, relative to Dir (at IncludeLine).
	Include     []string
	IncludeLine int
	// Files are the files read, in order, when there were several (nil for one file).
	Files []*Inventory
}

// Defaults are settings for every product; zero values mean "reauth's own default".
type Defaults struct {
	StartTimeout time.Duration
	PollInterval time.Duration
	StableWindow time.Duration
	BackupDir    string
	AuditLog     string
	// BackupRecipients encrypt every product's backups (age or SSH public keys, or recipients
	// files); a product's own list adds to them.
	BackupRecipients []string
	// RequireEncryptedBackups refuses (preflight, exit 4) a run whose backups would be in clear.
	RequireEncryptedBackups bool
	// Parallel bounds how many products `reauth run` works on at once (0: all; --parallel wins).
	Parallel int
	// PurgeRest is the purge's rest after each batch, as a multiple of the batch's time (0: none;
	// purge --rest): for databases that serve users while reauth runs.
	PurgeRest float64
	// SSHConfig are the OpenSSH client config files the ssh method reads (nil: ~/.ssh/config;
	// ["none"]: none).
	SSHConfig []string
}

// Product is one product and its nodes.
type Product struct {
	ID atlassian.ProductID
	// Name is how reauth names the product in messages, reports, the audit log and --product: its
	// id, or id@file when the id is in several inventory files of one run.
	Name string
	// File is the inventory file the product is written in, when several were read (nil: the
	// inventory it is in). Use Inventory.FileOf.
	File       *Inventory
	Line       int
	Home       string
	Database   *Database
	Install    string
	Table      string
	StatusPath string
	// WhoAmIPath overrides the catalog's "who am I" path the proof replays cookies against
	// (Crowd documents none for a browser's SSO cookie).
	WhoAmIPath string
	// BaseURL is the address users reach the product by (a load balancer or CDN): the proof
	// replays its cookies there too ("": the nodes only).
	BaseURL      string
	ExcludeUsers []string
	// BackupRecipients encrypt this product's backups, besides the defaults' recipients.
	BackupRecipients []string
	Canary           *Credential
	Admin            *Admin
	// ProofUser is the account reauth mints its proof token for ("": the admin's user).
	ProofUser string
	// ProofCookie overrides the catalog's remember-me cookie format (atlassian.ProofCookie.Format),
	// and confirms it where it is UNCONFIRMED.
	ProofCookie string
	// AppTokenRule overrides the catalog's rule for Crowd's application tokens in cwd_token
	// ("directory_id = -1", UNCONFIRMED for every Crowd version): rows it matches are never deleted.
	AppTokenRule atlassian.RowRule
	// SSO is "crowd" when this application signs its users in through Crowd SSO (the
	// crowd.token_key cookie), "none" when it does not, "" to detect it from its install
	// (seraph-config.xml's authenticator, crowd.properties).
	SSO  string
	Mode string
	// RestartStrategy is "", "rolling" or "full" (restart.strategy).
	RestartStrategy string
	// MaxUnavailable is how many nodes a rolling restart takes down together (restart.max_unavailable:
	// a count or a percentage; zero: one); MinServing how many must stay RUNNING meanwhile
	// (restart.min_serving; 0: the default, one).
	MaxUnavailable reauth.Unavailable
	MinServing     int
	// HazelcastHTTPSessions states Bitbucket's hazelcast.http.sessions (local, sticky,
	// replicated) and overrides what reauth reads from bitbucket.properties and the nodes.
	HazelcastHTTPSessions string
	StartTimeout          time.Duration
	Drain                 Drain
	// PATTable names the personal access token table where the catalog's is UNCONFIRMED (Bamboo:
	// otherwise the one table with TOKEN_ID and HASHED_TOKEN).
	PATTable string
	// IdP is the command that ends the SSO identity provider's sessions (nil: none).
	IdP        *IdPHook
	Kubernetes *Kubernetes
	Nodes      []Node
	// NodesFrom says where Nodes were read from (nodes_from: an Ansible inventory), or nil.
	NodesFrom *NodesFrom
}

// Database is a database given directly rather than found in the home directory.
type Database struct {
	JDBCURL  string
	User     string
	Password SecretRef
	// From is "statefulset": the URL (and, unless given here, the user and password) from the
	// env of the product's StatefulSet (kubernetes:), as Atlassian's charts set it.
	From string
	// UserRef is user_env/user_file: the user from an environment variable or a file (a Job's
	// secretKeyRef), instead of user.
	UserRef SecretRef
}

// Credential is a user and the reference to its password.
type Credential struct {
	User     string
	Password SecretRef
}

// Admin is an administrator account for the products' REST APIs.
type Admin struct {
	User     string
	Password SecretRef
	Token    SecretRef
}

// Drain holds the optional load-balancer hooks run before and after each node. AfterOnFailure
// runs After also when the node's restart failed (default off: a node that did not come back
// stays out of the load balancer, and the failure says so).
type Drain struct {
	Before, After  string
	AfterOnFailure bool
}

// IdPHook is the inventory's idp: the command `reauth run` runs to end the identity provider's
// sessions (Keycloak logout-all, Okta's or Entra ID's per-user calls), in an environment without
// the variables reauth read secrets from. Timeout 0: two minutes.
type IdPHook struct {
	Command string
	Timeout time.Duration
	Line    int
}

// Kubernetes locates a product's StatefulSet; its pods are the nodes.
type Kubernetes struct {
	Namespace, StatefulSet, Context, Kubeconfig, Service, URLTemplate string
	Line                                                              int
}

// Node is one product node.
type Node struct {
	Name    string
	URL     string
	Install string // where conf/server.xml lives; "" when unknown
	Line    int
	Restart Restart
}

// Restart says how a node is restarted: exactly one of Exec and SSH is set.
type Restart struct {
	Exec *Exec
	SSH  *SSH
}

// Exec restarts a node with local commands: Command, or Stop then Start.
type Exec struct {
	Command, Stop, Start string
	Timeout              time.Duration
}

// SSH restarts a node with commands run over SSH: Command, or Stop then Start.
type SSH struct {
	Host                 string
	Port                 int
	User                 string
	Command, Stop, Start string
	KeyFile              string
	KnownHosts           string
	Agent                *bool // nil: use the agent when SSH_AUTH_SOCK is set
	TTY                  bool
	ConnectTimeout       time.Duration
	Timeout              time.Duration
	// ProxyJump is "[user@]host[:port],…" or "none"; it wins over the ssh config's ("": the config's).
	ProxyJump string
}

// SecretRef names where a secret is: an environment variable or a file.
type SecretRef struct {
	Env  string
	File string // absolute, or relative to Dir
	Dir  string
	Line int
}

// IsZero reports whether no reference was given.
func (r SecretRef) IsZero() bool { return r.Env == "" && r.File == "" }

// Resolve reads the secret: the environment variable (through getenv) or the file's first line.
func (r SecretRef) Resolve(getenv func(string) string) (reauth.Secret, error) {
	switch {
	case r.Env != "":
		if getenv == nil {
			getenv = os.Getenv
		}
		v := getenv(r.Env)
		if v == "" {
			return reauth.Secret{}, reauth.Usage("export "+r.Env+" before running reauth, or use a *_file reference",
				"line %d: environment variable %s is empty or not set", r.Line, r.Env)
		}
		return reauth.NewSecret(v), nil
	case r.File != "":
		p := r.File
		if !filepath.IsAbs(p) && r.Dir != "" {
			p = filepath.Join(r.Dir, p)
		}
		b, err := boundedfile.Read(p, maxSecretFile)
		if err != nil {
			return reauth.Secret{}, reauth.Usage("check the *_file path in the inventory: a regular file with the secret on its first line",
				"line %d: read secret file: %w", r.Line, err)
		}
		defer clear(b)
		v, _, _ := strings.Cut(string(b), "\n")
		v = strings.TrimRight(v, "\r")
		if v == "" {
			return reauth.Secret{}, reauth.Usage("put the secret on the file's first line", "line %d: secret file %s is empty", r.Line, p)
		}
		return reauth.NewSecret(v), nil
	}
	return reauth.Secret{}, nil
}

// Size limits: a real inventory is a few KiB, a secret one line.
const (
	maxInventory  = 4 << 20
	maxSecretFile = 64 << 10
)

// Load reads and parses the inventory file at path, and the files it includes.
func Load(path string) (*Inventory, error) { return LoadAll([]string{path}) }

// loadFile reads and parses one inventory file.
func loadFile(path string) (*Inventory, error) {
	data, err := boundedfile.Read(path, maxInventory)
	if err != nil {
		return nil, reauth.Usage("give the path of your reauth.yaml (a regular file) with --config", "read inventory: %w", err)
	}
	inv, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	if abs, err := filepath.Abs(path); err == nil {
		inv.Path, inv.Dir = abs, filepath.Dir(abs)
		inv.fixDirs()
	}
	return inv, nil
}

// fixDirs points every secret reference at the inventory's directory.
func (inv *Inventory) fixDirs() {
	for i := range inv.Products {
		p := &inv.Products[i]
		if p.Database != nil {
			p.Database.Password.Dir, p.Database.UserRef.Dir = inv.Dir, inv.Dir
		}
		if p.Canary != nil {
			p.Canary.Password.Dir = inv.Dir
		}
		if p.Admin != nil {
			p.Admin.Password.Dir, p.Admin.Token.Dir = inv.Dir, inv.Dir
		}
	}
}

// SecretEnv names every environment variable the inventory reads a secret from (*_env).
func (inv *Inventory) SecretEnv() []string {
	var names []string
	add := func(refs ...SecretRef) {
		for _, r := range refs {
			if r.Env != "" {
				names = append(names, r.Env)
			}
		}
	}
	for _, p := range inv.Products {
		if p.Database != nil {
			add(p.Database.Password, p.Database.UserRef)
		}
		if p.Canary != nil {
			add(p.Canary.Password)
		}
		if p.Admin != nil {
			add(p.Admin.Password, p.Admin.Token)
		}
	}
	return names
}

// Product returns the product named id (its Name, or its id when only one product has it), or an
// error listing the inventory's products.
func (inv *Inventory) Product(id string) (*Product, error) {
	id = strings.TrimSpace(id)
	var byID []*Product
	for i := range inv.Products {
		p := &inv.Products[i]
		if strings.EqualFold(p.Label(), id) {
			return p, nil
		}
		if strings.EqualFold(string(p.ID), id) {
			byID = append(byID, p)
		}
	}
	if len(byID) == 1 {
		return byID[0], nil
	}
	if len(byID) > 1 {
		return nil, reauth.Usage("use --product with one of: "+strings.Join(inv.names(byID), ", "),
			"product %q is in several inventory files: say which", id)
	}
	return nil, reauth.Usage("use --product with one of: "+strings.Join(inv.names(nil), ", "),
		"product %q is not in the inventory", id)
}

// names lists the products' names (all the inventory's when ps is nil).
func (inv *Inventory) names(ps []*Product) []string {
	if ps == nil {
		for i := range inv.Products {
			ps = append(ps, &inv.Products[i])
		}
	}
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Label())
	}
	return out
}

// Pick is the product named name, or, when name is "", the inventory's only product; with
// several and no name, a usage error lists them. verb says what the product is for ("restart").
func (inv *Inventory) Pick(name, verb string) (*Product, error) {
	if name != "" {
		return inv.Product(name)
	}
	if len(inv.Products) == 1 {
		return &inv.Products[0], nil
	}
	return nil, reauth.Usage("add --product with one of: "+strings.Join(inv.names(nil), ", "),
		"the inventory lists %d products: say which one to %s", len(inv.Products), verb)
}

// Resolve makes a relative path from the inventory absolute (relative to its directory).
func (inv *Inventory) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || inv.Dir == "" {
		return p
	}
	return filepath.Join(inv.Dir, p)
}

// lineError is a parse error at a line of the file.
func lineError(name string, line int, hint, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if name == "" {
		name = "inventory"
	}
	return reauth.Usage(hint, "%s:%d: %s", name, line, msg)
}
