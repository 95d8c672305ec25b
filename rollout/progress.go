package rollout

import (
	"fmt"
	"sync"
	"time"

	"github.com/reauth/reauth/internal/liveview"
)

// Progress turns a rollout's events into the operator's progress line for the node in hand,
// "node2 (2/3) STARTING 31s / timeout 20m (node1 took 4.2s)": which node of how many, its last
// state, how long it has taken against the limit it is held to, and how long the node before it
// took, so that a slow node is told from a hanging one. Safe for concurrent use.
type Progress struct {
	mu         sync.Mutex
	last       string        // the last node that ended restarted
	took       time.Duration // how long it took
	current    string        // the node in hand
	currentEnd time.Time     // when its start timeout runs out
}

// Line is one progress line: Node ("node2 (2/3)"), Before, then the node's elapsed time
// (ticking on a terminal; none when negative), then After. Final: the node is done with
// (restarted, failed, skipped).
type Line struct {
	Node, Before, After string
	Elapsed             time.Duration
	Final               bool
}

// Body is the line after the node's name, with the elapsed time at the event.
func (l Line) Body() string {
	if l.Elapsed < 0 {
		return l.Before + l.After
	}
	return l.Before + liveview.Duration(l.Elapsed) + l.After
}

// String is the whole line with the elapsed time at the event (plain output).
func (l Line) String() string { return l.Node + " " + l.Body() }

// Observe records e and returns its line.
func (p *Progress) Observe(e Event) Line {
	p.mu.Lock()
	defer p.mu.Unlock()
	name := e.Node
	if e.Of > 0 {
		name += fmt.Sprintf(" (%d/%d)", e.Index, e.Of)
	}
	what := string(e.Phase)
	switch {
	case e.Phase == PhaseStable:
		what = e.State + " (stable window)"
	case e.State != "" && e.Phase == PhaseDown:
		what = "down (" + e.State + ")"
	case e.State != "" && e.Phase == PhaseStarting:
		what = e.State
	}
	if e.Message != "" && e.Phase != PhaseRestarting && e.Phase != PhaseStopping {
		what += ": " + e.Message
	}
	l := Line{Node: name, Before: what + " ", Elapsed: e.Elapsed}
	switch e.Phase {
	case PhaseDone, PhaseFailed, PhaseSkipped:
		l.Final = true
		l.Before = what + " after "
		if e.Phase == PhaseSkipped {
			l.Before, l.Elapsed = what, -1
		}
		if e.Phase == PhaseDone {
			p.last, p.took = e.Node, e.Elapsed
		}
		if p.current == e.Node {
			p.current = ""
		}
		return l
	}
	if e.Timeout > 0 {
		l.After = " / timeout " + liveview.Duration(e.Timeout)
		if p.current != e.Node {
			p.current, p.currentEnd = e.Node, time.Now().Add(e.Timeout-e.Elapsed)
		}
	}
	if p.last != "" && p.last != e.Node {
		l.After += fmt.Sprintf(" (%s took %s)", p.last, liveview.Duration(p.took))
	}
	return l
}

// InHand names the node being restarted and how long it may still take ("node2 (up to
// 19m40s)"), for the first Ctrl-C's line; "" when no node is in hand.
func (p *Progress) InHand() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.current == "" {
		return ""
	}
	return fmt.Sprintf("%s (up to %s)", p.current, liveview.Duration(time.Until(p.currentEnd)))
}
