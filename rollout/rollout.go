// Package rollout restarts a product's nodes one at a time, behind health gates, so that the
// cluster keeps serving and reauth never moves on until the restarted node is really back: it must
// be seen going down (or proven restarted by a changed process or pod identity) and then answer
// RUNNING continuously for a stable window. The first failure stops the run; the nodes after it are
// left untouched, and a journal file lets a later run resume with the failed node.
//
// The restart methods (exec, ssh, kubernetes) live in their own packages and implement Restarter;
// optional interfaces let a method prove a restart (Identifier), stop and start separately so that
// SESSIONS.ser can be removed while the node is down (StopStarter + FileAccess), or add its own
// readiness condition and address (ReadyGate, Addresser: a Kubernetes pod).
package rollout

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/rollout/execmethod"
)

// Restarter restarts one node.
type Restarter interface {
	Method() string                                   // "exec", "ssh", "kubernetes"
	Preflight(ctx context.Context) error              // reachable, auth ok, host key known…
	Restart(ctx context.Context, log io.Writer) error // issue the restart (returns when issued/done)
}

// Identifier proves a restart when the down phase was too quick to observe: the identity (a pid,
// a pod UID) changes when the node restarts.
type Identifier interface {
	Identity(ctx context.Context) (string, error)
}

// StopStarter stops and starts a node separately; reauth then removes SESSIONS.ser in between.
type StopStarter interface {
	Stop(ctx context.Context, log io.Writer) error
	Start(ctx context.Context, log io.Writer) error
}

// FileAccess reads and removes files on the node (for the Tomcat persistence check). A missing file
// must read as an error matching fs.ErrNotExist. Paths may hold "*" for one path element.
type FileAccess interface {
	ReadFile(ctx context.Context, path string) ([]byte, error)
	RemoveFiles(ctx context.Context, paths []string, log io.Writer) error
}

// Addresser gives the node's current base URL when it changes across restarts (a pod's IP).
type Addresser interface {
	URL(ctx context.Context) (string, error)
}

// ReadyGate is a readiness condition of the method's own (a pod's Ready condition), required on
// top of the product's status endpoint.
type ReadyGate interface {
	Ready(ctx context.Context) (ready bool, why string, err error)
}

// Router says how a node is reached, for the plan and --json ("ops@10.0.2.12:22 via bastion").
type Router interface {
	Route() string
}

// Noter lists what the operator should know about how a node is reached: the ssh_config
// directives that applied to it and that reauth does not follow.
type Noter interface {
	Notes() []string
}

// Via is how the plan names node n's method: "ssh (ops@10.0.2.12:22 via bastion)", or "exec".
func Via(n Node) string {
	if r, ok := n.Restarter.(Router); ok {
		if route := r.Route(); route != "" {
			return n.Restarter.Method() + " (" + route + ")"
		}
	}
	return n.Restarter.Method()
}

// Node is one node to restart.
type Node struct {
	Name      string
	URL       string // base URL of the node itself (not the load balancer)
	Install   string // CATALINA_BASE on the node; "" when unknown (no persistence check)
	Restarter Restarter
}

// Drain holds shell commands run on this machine before and after each node (take it out of the
// load balancer and back). They see REAUTH_NODE and REAUTH_NODE_URL, and not Plan.SecretEnv.
type Drain struct {
	Before, After string
	Timeout       time.Duration // default 5m
	// AfterOnFailure runs After also when the node's restart failed after Before ran. Off by
	// default: a node that did not come back should not be sent users; the failure then says the
	// node is still drained and how to put it back.
	AfterOnFailure bool
}

// Plan is what to restart, in order.
type Plan struct {
	Product atlassian.Product
	Nodes   []Node
	Drain   Drain
	// SecretEnv names the environment variables reauth read secrets from: the drain hooks run
	// without them (execmethod.Env).
	SecretEnv []string
	// Warnings are what the restart method read but probably not as meant, and did not refuse (a
	// kubeconfig key kubectl does not know): said with the plan, before anything is touched.
	Warnings []string
}

// hookEnv is the environment of node n's drain hooks.
func (p Plan) hookEnv(n Node) execmethod.Env {
	return execmethod.Env{Drop: p.SecretEnv, Set: []string{"REAUTH_NODE=" + n.Name, "REAUTH_NODE_URL=" + n.URL}}
}

// Options tune the health gates. Zero values take the defaults below.
type Options struct {
	StartTimeout time.Duration // per node: from the restart issued to stable RUNNING (default 20m)
	// DownTimeout is how long a node may keep answering RUNNING after its restart command returned
	// before reauth calls it "never went down" (default 2m, at most StartTimeout).
	DownTimeout  time.Duration
	PollInterval time.Duration // first interval between probes; it doubles up to MaxPoll (default 100ms)
	MaxPoll      time.Duration // the backoff cap (default 250ms)
	StableWindow time.Duration // RUNNING continuously this long counts as up (default 500ms)
	JournalPath  string        // "" = no journal
	Resume       bool          // skip the nodes the journal lists as restarted
	// ClearPersistedSessions removes SESSIONS.ser while a node is down, where Tomcat persists
	// sessions; without it such a node is refused in Preflight.
	ClearPersistedSessions bool
	// Strategy is StrategyRolling ("") or StrategyFull.
	Strategy string
	HTTP     *http.Client
	Events   func(Event)
	Log      io.Writer // command output (default: discarded)
	// Stop asks the run to stop before the next node (the first Ctrl-C); the current node is still
	// waited for. Cancelling ctx instead abandons the wait at once (the second Ctrl-C).
	Stop reauth.Stop
	Now  func() time.Time
	// BeforeNode is checked before each node (each wave) is touched (the run's lock is still
	// held, say); an error stops the rollout there, the node and those after it untouched.
	BeforeNode func(context.Context) error
	// MaxUnavailable is how many nodes a rolling restart takes down together, as a wave (zero:
	// one at a time). The full strategy stops every node anyway and ignores it.
	MaxUnavailable reauth.Unavailable
	// MinServing is how many nodes must stay RUNNING while a wave restarts (<= 0: one, none on a
	// single-node product, which cannot serve while it restarts).
	MinServing int
}

const (
	DefaultStartTimeout = 20 * time.Minute
	DefaultDownTimeout  = 2 * time.Minute
	DefaultPollInterval = 100 * time.Millisecond
	// A RUNNING answer must hold for DefaultStableWindow (re-probed at most every DefaultMaxPoll)
	// before the next node goes: long enough to catch a node that flaps straight back to ERROR or
	// STARTING, short enough to keep reauth's overhead under a second a node. Raise it with
	// defaults.stable_window for products known to flap.
	DefaultMaxPoll      = 250 * time.Millisecond
	DefaultStableWindow = 500 * time.Millisecond
	DefaultDrainTimeout = 5 * time.Minute
)

func (o Options) withDefaults() Options {
	if o.StartTimeout <= 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	if o.DownTimeout <= 0 {
		o.DownTimeout = DefaultDownTimeout
	}
	if o.DownTimeout > o.StartTimeout {
		o.DownTimeout = o.StartTimeout
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.MaxPoll <= 0 {
		o.MaxPoll = DefaultMaxPoll
	}
	if o.MaxPoll < o.PollInterval {
		o.MaxPoll = o.PollInterval
	}
	if o.StableWindow < 0 {
		o.StableWindow = 0
	} else if o.StableWindow == 0 {
		o.StableWindow = DefaultStableWindow
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 5 * time.Second}
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Phase names what a node is going through, for progress output.
type Phase string

const (
	PhaseWarning    Phase = "warning"    // a preflight warning (Message)
	PhaseDrain      Phase = "drain"      // running the before-hook
	PhaseRestarting Phase = "restarting" // restart issued, waiting for it to go down
	PhaseDown       Phase = "down"       // seen down (or proven restarted)
	PhaseStarting   Phase = "starting"   // answering, not RUNNING yet
	PhaseStable     Phase = "stable"     // RUNNING, inside the stable window
	PhaseUndrain    Phase = "undrain"    // running the after-hook
	PhaseDone       Phase = "restarted"
	// A full stop's phases: a node being stopped, and every node down (Node "*").
	PhaseStopping Phase = "stopping"
	PhaseAllDown  Phase = "all-down"
	// PhaseSessionsCleared: the node's persisted sessions (SESSIONS.ser) were removed while it was
	// down; Message lists the files.
	PhaseSessionsCleared Phase = "sessions-cleared"
	// PhaseWave: a wave of nodes begins (Node "*"; Message names the wave and its nodes).
	PhaseWave    Phase = "wave"
	PhaseFailed  Phase = "failed"
	PhaseSkipped Phase = "skipped"
)

// Event is a progress report.
type Event struct {
	Node    string
	Phase   Phase
	State   string // the last probe ("RUNNING", "STARTING", "unreachable", "HTTP 503")
	Elapsed time.Duration
	Message string
	// Index is the node's place in the plan (1-based) and Of the plan's node count; zero for
	// events of no one node (Node "*").
	Index, Of int
	// Timeout is the start timeout the node is held to (from its restart issued to stable RUNNING).
	Timeout time.Duration
}

// Status values of a NodeResult.
const (
	StatusRestarted = "restarted"
	StatusFailed    = "failed"
	StatusUntouched = "untouched"
	StatusSkipped   = "skipped (already restarted)"
)

// NodeResult is what happened to one node. The JSON names are part of the --json contract.
type NodeResult struct {
	Name         string `json:"name"`
	Restarted    bool   `json:"restarted"`
	WentDown     bool   `json:"went_down"`
	ReadyAfterMS int64  `json:"ready_after_ms"`
	Error        string `json:"error"`
	Status       string `json:"status"`
	// Drained: the drain before-hook ran and the after-hook did not (or failed): the node is out
	// of the load balancer until someone runs the after-hook.
	Drained bool `json:"drained,omitempty"`
	// Reenable is the command that puts a drained node back (its after-hook with its variables);
	// "" when there is no after-hook.
	Reenable string `json:"reenable,omitempty"`
	// SessionFiles are the persisted-session files (Tomcat's SESSIONS.ser) removed while the node
	// was down (--clear-persisted-sessions).
	SessionFiles []string `json:"session_files_removed,omitempty"`
	// Wave is the wave (1, 2, …) in which a rolling restart took the node down; 0 when not
	// restarted by this run.
	Wave int `json:"wave,omitempty"`
	// DownAt is when the node was seen down (or its restart proven by a changed identity): the
	// last moment its old in-memory sessions could work.
	DownAt *time.Time `json:"down_at,omitempty"`
	// Log says where to read why a node that failed did not come back, in its method's terms
	// (the journal of its systemd unit, kubectl logs, catalina.out, the product's log).
	Log string `json:"log,omitempty"`
}

// Result is what happened to every node of the plan, in plan order.
type Result struct {
	Nodes []NodeResult `json:"nodes"`
}

// Restarted counts the nodes that are done (restarted now or in the journal's earlier run).
func (r Result) Restarted() int {
	n := 0
	for _, x := range r.Nodes {
		if x.Status == StatusRestarted || x.Status == StatusSkipped {
			n++
		}
	}
	return n
}
