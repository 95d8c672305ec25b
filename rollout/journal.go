package rollout

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/atomicfile"
)

// journal remembers, per node, whether it was restarted, so that --resume continues with the
// node that failed and skips the ones already done. It is written ahead: a node is recorded as
// "restarting" before anything is done to it, and as restarted or failed after. A node left
// "restarting" (the run was killed, or the second write failed) is one whose outcome the journal
// cannot know: --resume says so and restarts it again, unless its identity (a pod UID) shows it
// was restarted. Each write is atomic (temp file, fsync, rename).
type journal struct {
	path string
	doc  journalDoc
}

type journalDoc struct {
	Product string            `json:"product"`
	Nodes   map[string]string `json:"nodes"` // name -> status (StatusRestarted, StatusFailed, statusRestarting)
	// Identity is a node's identity (a pod UID) before the restart recorded as in progress.
	Identity map[string]string `json:"identity,omitempty"`
	// Drained names the nodes whose drain before-hook ran and whose after-hook did not: they are
	// out of the load balancer until someone runs it.
	Drained []string `json:"drained,omitempty"`
	// Strategy is the restart strategy of the run that wrote the journal ("" = rolling, from
	// before strategies). AllDown: a full stop saw every node down (the cluster's sessions ended).
	Strategy string `json:"strategy,omitempty"`
	AllDown  bool   `json:"all_down,omitempty"`
	// StartupMS is each node's last start-up (restart issued to RUNNING), in milliseconds: the
	// next run's plan estimates its exposure window from it.
	StartupMS map[string]int64 `json:"startup_ms,omitempty"`
	Updated   time.Time        `json:"updated"`
}

// statusRestarting is a node's journal status while its restart is in progress.
const statusRestarting = "restarting"

func openJournal(path, product string, resume bool) (*journal, error) {
	j := &journal{path: path, doc: journalDoc{Product: product, Nodes: map[string]string{}}}
	if !resume {
		return j, nil
	}
	if path == "" {
		return nil, reauth.Usage("give a journal path", "--resume needs a journal file")
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, reauth.Refused("run without --resume to start a new rolling restart",
			"nothing to resume: no journal at %s", path)
	}
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	var doc journalDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, reauth.Refused("remove the file and run without --resume", "journal %s is damaged: %v", path, err)
	}
	if doc.Product != product {
		return nil, reauth.Refused("use the journal of this product, or run without --resume",
			"journal %s is for product %q, not %q", path, doc.Product, product)
	}
	if doc.Nodes == nil {
		doc.Nodes = map[string]string{}
	}
	j.doc = doc
	return j, nil
}

// strategy records the run's strategy; on resume it must be the journal's.
func (j *journal) strategy(s string, resume bool) error {
	was := j.doc.Strategy
	if was == "" {
		was = StrategyRolling
	}
	if resume && was != s {
		return reauth.Refused(fmt.Sprintf("resume with --restart-strategy %s (the journal %s holds a %s restart)", was, j.path, was),
			"cannot resume a %s restart with the %s strategy", was, s)
	}
	j.doc.Strategy = s
	return nil
}

func (j *journal) done(node string) bool { return j.doc.Nodes[node] == StatusRestarted }

// inProgress: the last run recorded node's restart as begun, and never its outcome.
func (j *journal) inProgress(node string) bool { return j.doc.Nodes[node] == statusRestarting }

func (j *journal) set(node, status string) { j.doc.Nodes[node] = status }

// begin records node's restart as in progress, with its identity before it ("" when unknown).
func (j *journal) begin(node, identity string) {
	j.doc.Nodes[node] = statusRestarting
	if identity == "" {
		delete(j.doc.Identity, node)
		return
	}
	if j.doc.Identity == nil {
		j.doc.Identity = map[string]string{}
	}
	j.doc.Identity[node] = identity
}

// finish records a node's outcome (restarted, else failed; left drained or not) and saves it.
func (j *journal) finish(nr NodeResult) error {
	if nr.Status == StatusRestarted {
		j.set(nr.Name, StatusRestarted)
		if nr.ReadyAfterMS > 0 {
			if j.doc.StartupMS == nil {
				j.doc.StartupMS = map[string]int64{}
			}
			j.doc.StartupMS[nr.Name] = nr.ReadyAfterMS
		}
	} else {
		j.set(nr.Name, StatusFailed)
	}
	j.setDrained(nr.Name, nr.Drained)
	return j.save()
}

// setDrained records whether node is left out of the load balancer.
func (j *journal) setDrained(node string, drained bool) {
	out := j.doc.Drained[:0]
	for _, n := range j.doc.Drained {
		if n != node {
			out = append(out, n)
		}
	}
	if drained {
		out = append(out, node)
	}
	j.doc.Drained = out
}

// save writes the journal to a temporary file in the same directory, syncs it, and renames it
// over the old one, so that a crash leaves either the old or the new journal, never half of one.
func (j *journal) save() error {
	if j.path == "" {
		return nil
	}
	j.doc.Updated = time.Now().UTC()
	b, err := json.MarshalIndent(j.doc, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(j.path, append(b, '\n'), 0o600)
}

// nodeLog is the run's log for one node's command output, each line prefixed with its name.
func nodeLog(o Options, n Node) io.Writer { return prefixWriter(o.Log, n.Name+"| ") }

// prefixWriter prefixes every line written to w (command output per node).
func prefixWriter(w io.Writer, prefix string) io.Writer {
	return &prefixed{w: w, prefix: prefix, bol: true}
}

type prefixed struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	bol    bool
}

func (p *prefixed) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []byte
	for _, c := range b {
		if p.bol {
			out = append(out, p.prefix...)
			p.bol = false
		}
		out = append(out, c)
		if c == '\n' {
			p.bol = true
		}
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}
