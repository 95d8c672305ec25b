package sandbox

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

// Node lifecycle states, as the products' readiness endpoints name them.
const (
	stateStarting    = "STARTING"
	stateRunning     = "RUNNING"
	stateStopping    = "STOPPING"
	stateError       = "ERROR"
	stateMaintenance = "MAINTENANCE"
)

// node is one simulated product node: one OS process, one port.
type node struct {
	st      *state
	name    string
	dir     string
	p       atlassian.Product
	m       model
	eng     reauth.Engine
	db      *sql.DB
	log     *log.Logger
	started time.Time

	sessions *sessionStore

	mu       sync.Mutex
	phase    string
	tokens   map[string]token   // the remember-me cache: loaded at start, read through on a miss, never refreshed
	accounts map[string]account // by name
	byRef    map[string]string  // token-row user reference -> name
	admin    string             // bearer token from DIR/admin-token
	// crowdCache: Crowd SSO tokens this application validated -> user, kept until it restarts.
	crowdCache map[string]string
	// patCache: bearer tokens accepted (sha256 of the token -> user), only under fault pat-cache.
	patCache map[string]string

	sessionAPI bool
}

// NodeMain runs one sandbox node in the foreground until ctx ends (SIGTERM in `reauth sandbox
// node`), then shuts down gracefully. args: --dir DIR --name NAME. It returns the exit code.
func NodeMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sandbox node", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "sandbox directory")
	name := fs.String("name", "", "node name")
	if err := fs.Parse(args); err != nil {
		return int(reauth.ExitUsage)
	}
	if *dir == "" || *name == "" {
		fmt.Fprintln(stderr, "sandbox node: --dir and --name are required")
		return int(reauth.ExitUsage)
	}
	n, port, err := newNode(*dir, *name, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "sandbox node: %v\n", err)
		return int(reauth.CodeOf(err))
	}
	if err := n.run(ctx, port); err != nil {
		n.log.Printf("exit: %v", err)
		return 1
	}
	return 0
}

func newNode(dir, name string, logTo io.Writer) (*node, int, error) {
	st, err := readState(dir)
	if err != nil {
		return nil, 0, err
	}
	ns, err := st.node(name)
	if err != nil {
		return nil, 0, err
	}
	p, err := atlassian.Lookup(string(st.Product))
	if err != nil {
		return nil, 0, err
	}
	m, err := modelFor(p)
	if err != nil {
		return nil, 0, err
	}
	// The remember-me cookie name is whatever the node's seraph-config.xml says, as in the product.
	cookie, err := seraphCookieName(nodeDir(st.Dir, name), p)
	if err != nil {
		return nil, 0, err
	}
	if cookie != "" {
		p.RememberMeCookie = cookie
	}
	n := &node{st: st, name: name, dir: st.Dir, p: p, m: m, phase: stateStarting,
		log:      log.New(logTo, name+" ", log.LstdFlags|log.Lmicroseconds),
		sessions: newSessionStore(), tokens: map[string]token{}, crowdCache: map[string]string{}, patCache: map[string]string{}, started: time.Now(),
		sessionAPI: p.SessionAPI != "" && atlassian.VersionAtLeast(st.Version, p.SessionAPIVersion)}
	if st.HazelcastSessions == HazelcastReplicated {
		n.sessions.shared = newClusterMap(st.Dir, name)
	}
	return n, ns.Port, nil
}

func (n *node) setPhase(s string) {
	n.mu.Lock()
	n.phase = s
	n.mu.Unlock()
	n.log.Printf("state %s", s)
}

func (n *node) getPhase() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.phase
}

// run serves until ctx ends. The listener opens first, so that the readiness endpoint answers
// STARTING during the start-up delay as a real node's Tomcat connector does.
func (n *node) run(ctx context.Context, port int) error {
	fault := readFault(n.dir, n.name)
	if fault == FaultFailNextStart {
		_ = os.Remove(faultFile(n.dir, n.name)) // once only
	}
	ln, err := listen(ctx, port)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: n.routes(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	n.log.Printf("%s %s listening on http://%s (pid %d)", n.p.Name, n.st.Version, ln.Addr(), os.Getpid())

	startErr := n.start(ctx, fault)
	if startErr != nil && !errors.Is(startErr, context.Canceled) {
		if fault == FaultFailNextStart {
			shutdown(srv)
			return startErr
		}
		// A node that cannot reach its database stays up and says ERROR, as Jira does.
		n.log.Printf("start-up failed: %v", startErr)
		n.setPhase(stateError)
	}
	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("http server: %w", err)
	}
	n.setPhase(stateStopping)
	if sh := n.sessions.shared; sh != nil {
		if gone, err := sh.leave(); err != nil {
			n.log.Printf("leave the cluster's session map: %v", err)
		} else if gone {
			n.log.Printf("left the cluster's session map: last member, its sessions are gone")
		} else {
			n.log.Printf("left the cluster's session map: the other members keep its sessions")
		}
	}
	if readFault(n.dir, n.name) == FaultKeepTokenCache {
		if err := n.saveTokenCache(); err != nil {
			n.log.Printf("keep token cache: %v", err)
		}
	}
	if n.st.Persistence {
		path := sessionsFile(n.dir, n.name)
		if err := n.sessions.save(path); err != nil {
			n.log.Printf("persist sessions: %v", err)
		} else {
			n.log.Printf("persisted %d sessions to %s", n.sessions.count(), path)
		}
	}
	shutdown(srv)
	if n.db != nil {
		n.db.Close()
	}
	n.log.Printf("stopped")
	return nil
}

func shutdown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}

// listen binds the node's fixed port, retrying briefly: the previous process of this node may
// still be releasing it.
func listen(ctx context.Context, port int) (net.Listener, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			return ln, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			return nil, fmt.Errorf("listen on 127.0.0.1:%d: %w", port, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// start loads what a real node loads at start-up (users, the token cache, persisted sessions),
// waits the configured delay, then turns RUNNING, unless a fault says otherwise.
func (n *node) start(ctx context.Context, fault Fault) error {
	t, err := n.st.target()
	if err != nil {
		return err
	}
	n.eng = t.Engine
	if n.db, err = t.open(ctx); err != nil {
		return err
	}
	accounts, err := n.m.loadAccounts(ctx, n.db)
	if err != nil {
		return err
	}
	tokens, err := n.m.loadTokens(ctx, n.db)
	if err != nil {
		return err
	}
	if fault == FaultKeepTokenCache {
		k, err := n.loadTokenCache(tokens)
		if err != nil {
			return err
		}
		n.log.Printf("kept %d remember-me tokens from the previous process (fault keep-token-cache)", k)
	}
	if fault == FaultPATCache {
		pc, err := n.loadPATCache()
		if err != nil {
			return err
		}
		n.mu.Lock()
		n.patCache = pc
		n.mu.Unlock()
		n.log.Printf("kept %d accepted access tokens from the previous process (fault pat-cache)", len(pc))
	}
	byRef := map[string]string{}
	for _, a := range accounts {
		byRef[a.Ref] = a.Name
	}
	admin, _ := os.ReadFile(filepath.Join(n.dir, "admin-token"))
	n.mu.Lock()
	n.accounts, n.tokens, n.byRef, n.admin = accounts, tokens, byRef, trimSpace(string(admin))
	n.mu.Unlock()
	n.log.Printf("loaded %d users and %d remember-me tokens from %s", len(accounts), len(tokens), n.m.table)
	if sh := n.sessions.shared; sh != nil {
		k, err := sh.join(os.Getpid())
		if err != nil {
			return err
		}
		n.log.Printf("joined the cluster's session map (hazelcast.http.sessions=replicated): %d sessions", k)
	}
	if n.st.Persistence {
		k, err := n.sessions.load(sessionsFile(n.dir, n.name))
		if err != nil {
			return err
		}
		n.log.Printf("restored %d sessions from SESSIONS.ser", k)
	}
	var killFrom int64
	if n.sessionAPI {
		if killFrom, err = maxKillID(ctx, n.db); err != nil {
			return err
		}
	}
	if err := reauth.Sleep(ctx, time.Duration(n.st.StartupDelay)); err != nil {
		return err
	}
	switch fault {
	case FaultFailNextStart:
		return errors.New("start-up failed (fault fail-next-start)")
	case FaultHangStarting:
		n.log.Printf("hanging in STARTING (fault hang-starting)")
		<-ctx.Done()
		return ctx.Err()
	}
	n.setPhase(stateRunning)
	if n.sessionAPI {
		go n.pollKills(ctx, killFrom)
	}
	return nil
}
