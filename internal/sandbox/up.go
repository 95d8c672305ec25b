package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

// UserPassword is the password of every seeded user (user001, user002, ...).
const UserPassword = "sandbox"

// Options configure `sandbox up`.
type Options struct {
	Dir     string
	Product atlassian.ProductID // default jira
	Nodes   int                 // default 1
	// DB is "" for an embedded SQLite file in Dir (pure Go, WAL), else
	// postgres://user:pw@127.0.0.1:port/db?sslmode=disable or mysql://user:pw@127.0.0.1:port/db
	// (MariaDB). It must be an empty database: the sandbox refuses one that has the product's tables.
	DB    string
	Users int // seeded users user001.., each logged in through the real login form
	// RememberFraction is the share of the seeded browsers that tick remember-me; 0 means the
	// default, 1.0 (everyone, as with Confluence DC's enforced remember-me); negative means nobody.
	RememberFraction float64
	StartupDelay     time.Duration // how long each node stays STARTING before RUNNING
	Persistence      bool          // Tomcat-like SESSIONS.ser persistence
	// APIKeepsRememberMe: the session API ends sessions only, leaving remember-me rows and the
	// nodes' token caches alone (the pessimistic reading of the Jira 9.11 API: UNCONFIRMED).
	APIKeepsRememberMe bool
	// IDBanks: each node takes token ids from its own banks of 100, as Jira's OfBiz sequence banks
	// do on a cluster: a token issued after another on a different node can have a lower id.
	IDBanks bool
	// HazelcastSessions (Bitbucket only) writes hazelcast.http.sessions into bitbucket.properties
	// and makes the nodes keep HTTP sessions accordingly: local (each node's memory, the default)
	// or replicated (one map shared by the live nodes: a session survives any node's restart while
	// another node is up, and is gone once every node was down at once).
	HazelcastSessions string
	// StopStart writes the inventory's restart commands as separate stop and start
	// (`reauth sandbox stop-node` / `start-node`) instead of one restart command: what a full stop
	// (restart.strategy full) and --clear-persisted-sessions need.
	StopStart     bool
	Version       string // product version the nodes report (default: a current one)
	Exe           string // the reauth binary that runs nodes (default os.Executable())
	AdminPassword string // password of the account "admin" (default "admin")
	// AdoptSchema uses a product schema that is already in the database (a real product's dump
	// restored into a scratch database) instead of refusing it: the sandbox then adds only its own
	// tables and the user rows it needs. Never point it at a live product's database.
	AdoptSchema bool
	// CrowdSSO makes this application trust Crowd SSO, as Jira's SSOSeraphAuthenticator does: the
	// base URLs of a running sandbox Crowd's nodes (same users and passwords). Its login creates a
	// Crowd session and sets crowd.token_key, which logs a browser back in on its own.
	CrowdSSO []string
	// SSOIssuer, when set, seeds an enabled SSO for Atlassian Data Center configuration
	// (AO_ED669C_IDP_CONFIG, OIDC) with this issuer, e.g. a Keycloak realm's URL.
	SSOIssuer string
}

// DefaultVersion is the version a sandbox node reports when Options.Version is empty.
func DefaultVersion(p atlassian.ProductID) string {
	switch p {
	case atlassian.Jira:
		return "9.12.0"
	case atlassian.Confluence:
		return "8.5.4"
	case atlassian.Bitbucket:
		return "8.19.0"
	case atlassian.Bamboo:
		return "9.6.0"
	case atlassian.Fisheye:
		return "4.8.15"
	case atlassian.Crowd:
		return "5.3.0"
	}
	return "1.0.0"
}

func (o *Options) defaults() error {
	if o.Dir == "" {
		return reauth.Usage("give --dir DIR (a new directory)", "sandbox: no directory given")
	}
	if o.Product == "" {
		o.Product = atlassian.Jira
	}
	if o.Nodes == 0 {
		o.Nodes = 1
	}
	if o.Nodes < 0 || o.Nodes > 32 {
		return reauth.Usage("use 1 to 32 nodes", "sandbox: %d nodes", o.Nodes)
	}
	if o.Users < 0 || o.Users > 100000 {
		return reauth.Usage("use 0 to 100000 users", "sandbox: %d users", o.Users)
	}
	if o.RememberFraction == 0 {
		o.RememberFraction = 1
	}
	if o.RememberFraction > 1 || math.IsNaN(o.RememberFraction) {
		return reauth.Usage("use a fraction between 0 and 1", "sandbox: remember-me fraction %v", o.RememberFraction)
	}
	switch o.HazelcastSessions {
	case "", HazelcastLocal, HazelcastReplicated:
	default:
		return reauth.Usage("use local or replicated", "sandbox: hazelcast sessions %q", o.HazelcastSessions)
	}
	if o.HazelcastSessions != "" && o.Product != atlassian.Bitbucket {
		return reauth.Usage("use --hazelcast-sessions with --product bitbucket", "sandbox: hazelcast.http.sessions is a Bitbucket setting, not %s's", o.Product)
	}
	if o.StartupDelay < 0 {
		return reauth.Usage("use a positive duration such as 2s", "sandbox: negative start-up delay")
	}
	if o.Version == "" {
		o.Version = DefaultVersion(o.Product)
	}
	if len(atlassian.VersionParts(o.Version)) == 0 {
		return reauth.Usage("use a version like 9.12.0", "sandbox: version %q", o.Version)
	}
	if o.AdminPassword == "" {
		o.AdminPassword = "admin"
	}
	if p, err := atlassian.Lookup(string(o.Product)); len(o.CrowdSSO) > 0 && (err != nil || p.ID == atlassian.Crowd || p.SeraphConfig == "") {
		return reauth.Usage("give --crowd-sso to jira, confluence or bamboo: an application that signs in through Crowd",
			"sandbox: %s cannot trust Crowd SSO here", o.Product)
	}
	for _, u := range o.CrowdSSO {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Hostname() != "127.0.0.1" {
			return reauth.Usage("give the crowd sandbox's node URLs, e.g. http://127.0.0.1:40001", "sandbox: --crowd-sso %q is not a local node URL", u)
		}
	}
	if o.SSOIssuer != "" {
		if u, err := url.Parse(o.SSOIssuer); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return reauth.Usage("give the issuer as a URL, e.g. https://sso.example.com/realms/corp", "sandbox: --sso-issuer %q is not a URL", o.SSOIssuer)
		}
		if _, ok := atlassian.CredentialsOf(o.Product); !ok || o.Product == atlassian.Bamboo {
			return reauth.Usage("give --sso-issuer to jira, confluence or bitbucket", "sandbox: %s has no SSO configuration table here", o.Product)
		}
	}
	if o.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the reauth binary: %w", err)
		}
		o.Exe = exe
	}
	return nil
}

// Up creates a sandbox in o.Dir (product home, schema, users, inventory), starts its nodes
// detached, waits until they are RUNNING, and logs the seeded users in from simulated browsers
// whose cookies it saves in BrowsersDir. On failure it stops what it started.
func Up(ctx context.Context, o Options, progress io.Writer) (*Cluster, error) {
	if progress == nil {
		progress = io.Discard
	}
	if err := o.defaults(); err != nil {
		return nil, err
	}
	p, err := atlassian.Lookup(string(o.Product))
	if err != nil {
		return nil, reauth.Usage("", "%v", err)
	}
	m, err := modelFor(p)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	if exe, err := filepath.Abs(o.Exe); err == nil {
		o.Exe = exe
	}
	if _, err := os.Stat(filepath.Join(dir, stateFile)); err == nil {
		return nil, reauth.Refused("stop it with 'reauth sandbox down --dir "+o.Dir+"' and remove the directory, or choose another --dir",
			"%s already holds a sandbox", dir)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create sandbox directory: %w", err)
	}
	st := &state{Dir: dir, Product: p.ID, Version: o.Version, DB: o.DB, StartupDelay: Duration(o.StartupDelay),
		Persistence: o.Persistence, Exe: o.Exe, Users: o.Users, APIKeepsRememberMe: o.APIKeepsRememberMe, IDBanks: o.IDBanks,
		CrowdSSO: o.CrowdSSO, HazelcastSessions: o.HazelcastSessions, StopStart: o.StopStart}
	if o.DB == "" {
		st.SQLiteFile = filepath.Join(dir, "sandbox.db")
	}
	t, err := st.target()
	if err != nil {
		return nil, err
	}
	c := &Cluster{st: st}
	started := time.Now()

	if err := c.createDatabase(ctx, m, t, o); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "database: %s %s, table %s, %d users\n", t.Engine, redactURL(c.DBURL()), m.table, o.Users)
	if err := c.layout(p, t, o.Nodes); err != nil {
		return nil, err
	}
	for _, n := range c.Nodes() {
		if _, err := startDetached(st.Exe, dir, n.Name); err != nil {
			_ = c.Down(context.Background())
			return nil, err
		}
	}
	if err := c.WaitRunning(ctx, o.StartupDelay+60*time.Second); err != nil {
		_ = c.Down(context.Background())
		return nil, err
	}
	fmt.Fprintf(progress, "nodes: %d %s %s node(s) RUNNING after %s\n", o.Nodes, p.Name, o.Version, time.Since(started).Round(time.Millisecond))
	remembered, err := c.loginAll(ctx, p, o)
	if err != nil {
		_ = c.Down(context.Background())
		return nil, err
	}
	fmt.Fprintf(progress, "browsers: %d users logged in (%d with remember-me), cookies in %s\n", o.Users, remembered, c.BrowsersDir())
	return c, nil
}

// createDatabase creates the schema and the user directory.
func (c *Cluster) createDatabase(ctx context.Context, m model, t dbTarget, o Options) error {
	db, err := t.open(ctx)
	if err != nil {
		return reauth.WithHint(err, dbHint)
	}
	defer db.Close()
	if o.AdoptSchema {
		err = m.adoptSchema(ctx, db, t.Engine)
	} else if err = m.createSchema(ctx, db, t.Engine); err == nil {
		// An adopted dump keeps its own credential tables: the sandbox seeds none into it.
		err = m.createCredentialTables(ctx, db, t.Engine)
	}
	if err != nil {
		return err
	}
	users := []seedUser{{ID: 0, Name: "admin", Hash: hashPassword(o.AdminPassword), Admin: true, Ref: m.userRefFor(0, "admin")}}
	for i := 1; i <= o.Users; i++ {
		name := UserName(i)
		users = append(users, seedUser{ID: i, Name: name, Hash: hashPassword(UserPassword), Ref: m.userRefFor(i, name)})
	}
	if err := m.seedUsers(ctx, db, t.Engine, users, o.AdoptSchema); err != nil {
		return err
	}
	if !o.AdoptSchema {
		if err := m.seedCredentials(ctx, db, t.Engine, c.st.Dir, users, o.SSOIssuer); err != nil {
			return err
		}
	}
	if m.crowd {
		return seedCrowdApplications(ctx, db, t.Engine)
	}
	return nil
}

// UserName is the name of seeded user i (1-based): user001, user002, ...
func UserName(i int) string { return fmt.Sprintf("user%03d", i) }

// layout writes everything on disk but the processes: ports, state, home, node dirs, inventory.
func (c *Cluster) layout(p atlassian.Product, t dbTarget, nodes int) error {
	ports, err := freePorts(nodes, c.st.Dir)
	if err != nil {
		return err
	}
	for i, port := range ports {
		c.st.Nodes = append(c.st.Nodes, nodeState{Name: fmt.Sprintf("node%d", i+1), Port: port})
	}
	if err := writeState(c.st); err != nil {
		return fmt.Errorf("write sandbox state: %w", err)
	}
	cfg, err := writeHome(c.Home(), p, t, c.st.Version)
	if err != nil {
		return fmt.Errorf("write product home: %w", err)
	}
	if hz := c.st.HazelcastSessions; hz != "" {
		b, err := os.ReadFile(cfg)
		if err != nil {
			return err
		}
		b = append(b, fmt.Sprintf("# Where HTTP sessions live: local (each node), sticky or replicated (the Hazelcast map).\n%s=%s\n", atlassian.HazelcastSessionsKey, hz)...)
		if err := writeFile(cfg, b, 0o600); err != nil {
			return err
		}
	}
	for _, n := range c.st.Nodes {
		if err := writeServerXML(nodeDir(c.st.Dir, n.Name), p, n.Port, c.st.Persistence); err != nil {
			return fmt.Errorf("write node %s: %w", n.Name, err)
		}
		if err := writeSeraphConfig(nodeDir(c.st.Dir, n.Name), p, len(c.st.CrowdSSO) > 0); err != nil {
			return fmt.Errorf("write node %s: %w", n.Name, err)
		}
	}
	if err := os.MkdirAll(c.BrowsersDir(), 0o700); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(c.st.Dir, "admin-token"), []byte(randomHex(24)+"\n"), 0o600); err != nil {
		return err
	}
	inv, err := c.inventory()
	if err != nil {
		return err
	}
	return writeFile(c.InventoryPath(), inv, 0o644)
}

// ephemeralLow is the first port of the kernel's range for outgoing connections (Linux; 32768,
// its default, elsewhere).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 32768
	}
	v, err := strconv.Atoi(f[0])
	if err != nil || v < 1024 {
		return 32768
	}
	return v
}
