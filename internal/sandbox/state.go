package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/atomicfile"
)

// stateFile is the sandbox's own record in DIR: what `up` created, read by every node process
// at start and by `down`, `status` and `restart-node`.
const stateFile = "sandbox.json"

// state is the content of DIR/sandbox.json. It holds the database URL as the operator gave it
// (with its password), so it is written 0600, like the product config files beside it.
type state struct {
	Dir          string              `json:"dir"`
	Product      atlassian.ProductID `json:"product"`
	Version      string              `json:"version"`
	DB           string              `json:"db"` // "" = SQLiteFile
	SQLiteFile   string              `json:"sqlite_file,omitempty"`
	StartupDelay Duration            `json:"startup_delay"`
	Persistence  bool                `json:"persistence"`
	// APIKeepsRememberMe: the session API ends sessions but leaves remember-me rows and caches
	// alone (the pessimistic reading of Jira 9.11's API, whose effect on them is UNCONFIRMED).
	APIKeepsRememberMe bool `json:"api_keeps_remember_me,omitempty"`
	// IDBanks: each node allocates token ids from its own banks of 100 (Jira's OfBiz sequence
	// banks on a cluster), so a token issued later on one node can carry a lower id.
	IDBanks bool `json:"id_banks,omitempty"`
	// CrowdSSO are the Crowd nodes this application trusts for SSO (crowd.go); empty: none.
	CrowdSSO []string `json:"crowd_sso,omitempty"`
	// HazelcastSessions is Bitbucket's hazelcast.http.sessions: "" or local (each node's memory),
	// replicated (the cluster's map, alive while one node is up).
	HazelcastSessions string `json:"hazelcast_sessions,omitempty"`
	// StopStart: the inventory restarts nodes with separate stop and start commands.
	StopStart bool        `json:"stop_start,omitempty"`
	Exe       string      `json:"exe"`
	Users     int         `json:"users"`
	Nodes     []nodeState `json:"nodes"`
}

type nodeState struct {
	Name string `json:"name"`
	Port int    `json:"port"`
}

// Duration is a time.Duration that reads and writes as "150ms" in JSON.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

func (s *state) target() (dbTarget, error) { return parseDBURL(s.DB, s.SQLiteFile) }

func (s *state) node(name string) (nodeState, error) {
	for _, n := range s.Nodes {
		if n.Name == name {
			return n, nil
		}
	}
	var names []string
	for _, n := range s.Nodes {
		names = append(names, n.Name)
	}
	return nodeState{}, reauth.Usage(fmt.Sprintf("use one of %v", names), "sandbox %s has no node %q", s.Dir, name)
}

func readState(dir string) (*state, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(abs, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, reauth.Usage("create one with: reauth sandbox up --dir "+dir, "%s is not a sandbox (no %s)", dir, stateFile)
	}
	if err != nil {
		return nil, fmt.Errorf("read sandbox state: %w", err)
	}
	var s state
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(abs, stateFile), err)
	}
	s.Dir = abs
	return &s, nil
}

func writeState(s *state) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(s.Dir, stateFile), append(b, '\n'), 0o600)
}

// writeFile writes a file atomically, so a node never reads half of it.
func writeFile(path string, data []byte, mode os.FileMode) error {
	return atomicfile.WriteFile(path, data, mode)
}

// Paths inside DIR.
func nodeDir(dir, name string) string { return filepath.Join(dir, "nodes", name) }
func pidFile(dir, name string) string { return filepath.Join(nodeDir(dir, name), "pid") }
func faultFile(dir, name string) string {
	return filepath.Join(nodeDir(dir, name), "fault")
}
func tokenCacheFile(dir, name string) string {
	return filepath.Join(nodeDir(dir, name), "token-cache.json")
}
func sessionsFile(dir, name string) string {
	return filepath.Join(nodeDir(dir, name), "work", "Catalina", "localhost", "ROOT", "SESSIONS.ser")
}

// Fault is a misbehaviour a node can be told to show, for fault tests and demos. It lives in the
// file DIR/nodes/NAME/fault.
type Fault string

const (
	FaultNone Fault = ""
	// FaultFailNextStart: the next start exits 1 while STARTING (once; the file is then removed).
	FaultFailNextStart Fault = "fail-next-start"
	// FaultHangStarting: every start stays STARTING until the fault is cleared and the node restarted.
	FaultHangStarting Fault = "hang-starting"
	// FaultIgnoreRestart: `reauth sandbox restart-node` reports success without restarting,
	// like a restart command that "succeeds" but never restarts anything.
	FaultIgnoreRestart Fault = "ignore-restart"
	// FaultMaintenance and FaultError make a RUNNING node report MAINTENANCE or ERROR at its
	// readiness endpoint (with the product's status codes), read live on every status request.
	FaultMaintenance Fault = "maintenance"
	FaultError       Fault = "error"
	// FaultKeepTokenCache: the node's remember-me cache survives its restarts (saved at stop,
	// loaded at start), like a cache replicated or persisted outside the node's memory: tokens
	// deleted from the table stay valid on that node.
	FaultKeepTokenCache Fault = "keep-token-cache"
)

func (f Fault) valid() bool {
	switch f {
	case FaultNone, FaultFailNextStart, FaultHangStarting, FaultIgnoreRestart, FaultMaintenance, FaultError, FaultKeepTokenCache, FaultPATCache:
		return true
	}
	return false
}

func readFault(dir, name string) Fault {
	b, err := os.ReadFile(faultFile(dir, name))
	if err != nil {
		return FaultNone
	}
	return Fault(trimSpace(string(b)))
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == ' ' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}
