// Package sandbox runs simulated Atlassian product nodes that behave like the real ones wherever
// reauth can observe a product from outside: the login form and its fields, the session and
// remember-me cookies (names and value formats), the "who am I" endpoint, the readiness endpoint
// with the product's own codes and JSON, remember-me tokens in the product's real table (SQLite,
// PostgreSQL or MariaDB), an in-memory session map per node, an in-memory token cache loaded only
// at start-up, a start-up delay, and optional Tomcat-like session persistence.
//
// Each node is its own OS process (the reauth binary: `reauth sandbox node`), started detached,
// so that restart methods restart something real. It is part of the product (`reauth sandbox`,
// `reauth demo`), the place where a newcomer sees reauth work, and how the tests run the whole job.
//
// Caches: a node sees a token created on another node only after its own next restart, and keeps
// accepting tokens deleted from the database until then, which is how the products' caches behave
// as far as reauth is concerned (Bamboo KB: the delete "only comes into action after restarting").
package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

// Cluster is a sandbox on disk: DIR/sandbox.json and the node processes it records.
type Cluster struct {
	st *state
}

// NodeInfo says where a node is.
type NodeInfo struct {
	Name    string
	URL     string // http://127.0.0.1:PORT
	Dir     string // the node's "install" directory, with conf/server.xml
	PIDFile string
}

// NodeStatus is a node as `sandbox status` shows it.
type NodeStatus struct {
	Name         string `json:"name"`
	URL          string `json:"url"`
	PID          int    `json:"pid"`   // 0 when not running
	State        string `json:"state"` // the readiness state, or DOWN / UNREACHABLE
	Sessions     int    `json:"sessions"`
	CachedTokens int    `json:"cached_tokens"`
	Fault        Fault  `json:"fault,omitempty"`
}

// Open reads the sandbox in dir.
func Open(dir string) (*Cluster, error) {
	st, err := readState(dir)
	if err != nil {
		return nil, err
	}
	return &Cluster{st: st}, nil
}

// Product is the simulated product.
func (c *Cluster) Product() atlassian.ProductID { return c.st.Product }

// Dir is the sandbox directory (absolute).
func (c *Cluster) Dir() string { return c.st.Dir }

// Home is the product home directory, with the product's config file.
func (c *Cluster) Home() string { return filepath.Join(c.st.Dir, "home") }

// StateDir is DIR/state: the state directory (--state-dir) the sandbox's usage passes to reauth,
// so that a run on the sandbox keeps its backup, journals and audit log there and never touches
// the operator's own state directory or audit log.
func (c *Cluster) StateDir() string { return filepath.Join(c.st.Dir, "state") }

// InventoryPath is DIR/reauth.yaml.
func (c *Cluster) InventoryPath() string { return filepath.Join(c.st.Dir, "reauth.yaml") }

// BrowsersDir holds one Netscape cookie file per seeded user (userNNN.cookies).
func (c *Cluster) BrowsersDir() string { return filepath.Join(c.st.Dir, "browsers") }

// DBURL is the database as Options.DB gave it, or sqlite:/abs/path for the embedded one. It may
// hold a password: do not print it (RedactedDBURL is for messages).
func (c *Cluster) DBURL() string {
	if c.st.DB == "" {
		return "sqlite:" + c.st.SQLiteFile
	}
	return c.st.DB
}

// RedactedDBURL is DBURL without its password.
func (c *Cluster) RedactedDBURL() string { return redactURL(c.DBURL()) }

// AdminToken is the bearer token the session API accepts for the admin (DIR/admin-token).
func (c *Cluster) AdminToken() (string, error) {
	b, err := os.ReadFile(filepath.Join(c.st.Dir, "admin-token"))
	return trimSpace(string(b)), err
}

// Nodes lists the nodes in order.
func (c *Cluster) Nodes() []NodeInfo {
	out := make([]NodeInfo, 0, len(c.st.Nodes))
	for _, n := range c.st.Nodes {
		out = append(out, NodeInfo{Name: n.Name, URL: fmt.Sprintf("http://127.0.0.1:%d", n.Port),
			Dir: nodeDir(c.st.Dir, n.Name), PIDFile: pidFile(c.st.Dir, n.Name)})
	}
	return out
}

func (c *Cluster) info(name string) (NodeInfo, error) {
	if _, err := c.st.node(name); err != nil {
		return NodeInfo{}, err
	}
	for _, n := range c.Nodes() {
		if n.Name == name {
			return n, nil
		}
	}
	return NodeInfo{}, fmt.Errorf("no node %q", name)
}

// StartNode starts a stopped node and returns once its process runs (not once it is RUNNING:
// health gates wait for that).
func (c *Cluster) StartNode(ctx context.Context, name string) error {
	if _, err := c.st.node(name); err != nil {
		return err
	}
	if pid := runningPID(c.st.Dir, name); pid != 0 {
		return reauth.Failed("stop it first, or use restart", "sandbox node %s is already running (pid %d)", name, pid)
	}
	_, err := startDetached(c.st.Exe, c.st.Dir, name)
	return err
}

// StopNode stops a node gracefully (SIGTERM, then SIGKILL after 10 s). Stopping a stopped node
// is not an error.
func (c *Cluster) StopNode(ctx context.Context, name string) error {
	if _, err := c.st.node(name); err != nil {
		return err
	}
	if pid := runningPID(c.st.Dir, name); pid != 0 {
		if err := stopPID(ctx, pid, 10*time.Second); err != nil {
			return fmt.Errorf("stop sandbox node %s: %w", name, err)
		}
	}
	_ = os.Remove(pidFile(c.st.Dir, name))
	return nil
}

// RestartNode stops the node (waiting for its process to exit) and starts it again on the same
// port; it returns once the new process runs, without waiting for RUNNING.
func (c *Cluster) RestartNode(ctx context.Context, name string) error {
	if err := c.StopNode(ctx, name); err != nil {
		return err
	}
	return c.StartNode(ctx, name)
}

// SetFault sets (or with FaultNone clears) the node's fault. Start-up faults take effect at the
// node's next start.
func (c *Cluster) SetFault(name string, f Fault) error {
	if _, err := c.st.node(name); err != nil {
		return err
	}
	if !f.valid() {
		return reauth.Usage("use fail-next-start, hang-starting, ignore-restart, maintenance, error, keep-token-cache or pat-cache", "unknown fault %q", f)
	}
	path := faultFile(c.st.Dir, name)
	if f == FaultNone {
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return err
		}
		return nil
	}
	return writeFile(path, []byte(string(f)+"\n"), 0o644)
}

// Down stops every node (by the pids the sandbox recorded) and leaves the files for inspection.
func (c *Cluster) Down(ctx context.Context) error {
	var first error
	for _, n := range c.st.Nodes {
		if err := c.StopNode(ctx, n.Name); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Status asks every node for its state and session count.
func (c *Cluster) Status(ctx context.Context) ([]NodeStatus, error) {
	client := &http.Client{Timeout: 2 * time.Second}
	var out []NodeStatus
	for _, n := range c.Nodes() {
		s := NodeStatus{Name: n.Name, URL: n.URL, PID: runningPID(c.st.Dir, n.Name), State: "DOWN",
			Fault: readFault(c.st.Dir, n.Name)}
		if s.PID != 0 {
			s.State = "UNREACHABLE"
			var info Info
			if err := getJSON(ctx, client, n.URL+"/sandbox/info", &info); err == nil {
				s.State, s.Sessions, s.CachedTokens = info.State, info.Sessions, info.CachedTokens
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// WaitRunning waits until every node's readiness endpoint says RUNNING (HTTP 200), or timeout.
func (c *Cluster) WaitRunning(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	p, err := atlassian.Lookup(string(c.st.Product))
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 2 * time.Second}
	for _, n := range c.Nodes() {
		for {
			code, st := probe(ctx, client, n.URL+p.ContextPath+p.Ready.Path)
			if code == http.StatusOK && st == stateRunning {
				break
			}
			if runningPID(c.st.Dir, n.Name) == 0 {
				pid := readPID(c.st.Dir, n.Name)
				return reauth.Failed("see "+filepath.Join(n.Dir, "node.log"), "sandbox node %s (pid %d, alive %v) exited while starting: %s",
					n.Name, pid, alive(pid), lastLine(filepath.Join(n.Dir, "node.log")))
			}
			select {
			case <-ctx.Done():
				return reauth.Failed("see "+filepath.Join(n.Dir, "node.log"), "sandbox node %s not RUNNING after %s (last state %q)", n.Name, timeout, st)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}

// Fault is the node's current fault setting.
func (c *Cluster) Fault(name string) (Fault, error) {
	if _, err := c.st.node(name); err != nil {
		return FaultNone, err
	}
	return readFault(c.st.Dir, name), nil
}

// PIDs maps each node to the pid of its live process (0 when it is not running): a restart shows
// as a changed pid, which is how tests prove that a node did, or did not, restart.
func (c *Cluster) PIDs() map[string]int {
	out := map[string]int{}
	for _, n := range c.Nodes() {
		pid := readPID(c.st.Dir, n.Name)
		if !alive(pid) {
			pid = 0
		}
		out[n.Name] = pid
	}
	return out
}

// lastLine is the last line of a node's log (why it exited, usually), "" when there is none.
func lastLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
