package runbook

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/reauth/reauth/internal/liveview"
)

// stopNotice says, once, what the first Ctrl-C still lets finish and for how long at most. It is
// printed through the progress view while products work, so that it stays on screen above the
// redrawn lines (printed beside them, the next redraw overwrote it and the operator, seeing
// nothing, pressed again and abandoned the node).
type stopNotice struct {
	mu    sync.Mutex
	view  *liveview.View
	units []*unit
}

// watch prints the notice when stop fires, until ctx (the run's own end) is done.
func (o *Options) watchStop(ctx context.Context) {
	if o.Stop.Done() == nil {
		return
	}
	n := o.stopNote
	go func() {
		select {
		case <-o.Stop.Done():
		case <-ctx.Done():
			return
		}
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.view != nil {
			n.view.Note(n.line() + "\n")
			return
		}
		fmt.Fprintln(o.Err, n.line())
	}()
}

// working tells the notice which view and products are at work (nil, nil: none).
func (n *stopNotice) working(v *liveview.View, units []*unit) {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.view, n.units = v, units
}

// line is "stop requested: finishing jira node2 (up to 19m40s); Ctrl-C again abandons it".
func (n *stopNotice) line() string {
	var inHand []string
	for _, u := range n.units {
		if h := u.prog.InHand(); h != "" {
			inHand = append(inHand, u.name+" "+h)
		}
	}
	if len(inHand) == 0 {
		return "stop requested: stopping at the next safe point (after the current batch or check); Ctrl-C again abandons the wait"
	}
	return "stop requested: finishing " + strings.Join(inHand, ", ") + "; Ctrl-C again abandons it"
}
