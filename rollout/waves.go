package rollout

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/syncio"
)

// minServing is how many of n nodes must stay RUNNING during a rolling restart.
func (o Options) minServing(n int) int {
	if o.MinServing > 0 {
		return o.MinServing
	}
	if n <= 1 {
		return 0 // a single node cannot serve while it restarts: Preflight warns
	}
	return 1
}

// CheckWaves refuses, before anything is touched, a wave size that would leave fewer than
// min_serving nodes serving even with every other node up. The full strategy stops every node
// by design and is not checked.
func CheckWaves(plan Plan, o Options) error {
	n := len(plan.Nodes)
	if o.Strategy == StrategyFull || n == 0 {
		return nil
	}
	k, ms := min(o.MaxUnavailable.Of(n), n), o.minServing(n)
	if k+ms <= n {
		return nil
	}
	hint := fmt.Sprintf("use --max-unavailable %d or less (restart: {max_unavailable: …} in the inventory)", max(n-ms, 1))
	if n-ms < 1 {
		hint = fmt.Sprintf("lower min_serving below %d (the product has %d node(s))", n, n)
	}
	return reauth.Refused(hint+"; to stop every node at once on purpose, use --restart-strategy full",
		"%s: restarting %d of its %d node(s) at once (max unavailable %s) would leave %d serving, fewer than min_serving %d",
		plan.Product.Name, k, n, o.MaxUnavailable, n-k, ms)
}

// runWaves is the rolling strategy: the nodes not yet restarted, in plan order, in waves of at
// most MaxUnavailable. Each wave's nodes are drained, restarted and gated together; the next
// wave begins only once every node of this one is RUNNING for its stable window and undrained,
// and only if the guard (nextWave) allows it against the nodes' status probed then. A failure
// in a wave lets its other nodes finish, then ends the run: the next wave never starts.
func runWaves(ctx context.Context, plan Plan, o Options, res Result, j *journal) (Result, error) {
	k := o.MaxUnavailable.Of(len(plan.Nodes))
	if k > 1 {
		// The wave's nodes report and log from their own goroutines: one event, one write at a time.
		var mu sync.Mutex
		events := o.Events
		o.Events = func(e Event) {
			mu.Lock()
			defer mu.Unlock()
			if events != nil {
				events(e)
			}
		}
		o.Log = syncio.NewWriter(o.Log)
	}
	pending, err := pendingNodes(ctx, plan, o, res, j)
	if err != nil {
		return res, err
	}
	for wave := 1; len(pending) > 0; wave++ {
		if err := beforeNode(ctx, o, res, pending[0]); err != nil {
			return res, err
		}
		idx, err := nextWave(ctx, plan, o, res, pending, k)
		if err != nil {
			return res, err
		}
		pending = pending[len(idx):]
		if k > 1 {
			o.emit(Event{Node: "*", Phase: PhaseWave, Message: fmt.Sprintf("wave %d: %s", wave, names(plan, idx))})
		}
		if err := runWave(ctx, plan, o, res, j, idx, wave); err != nil {
			return res, err
		}
	}
	return res, nil
}

// pendingNodes marks the nodes the journal lists as restarted skipped and returns the others'
// indices, in plan order. A node the last run began and never recorded is skipped when its
// identity changed since (it was restarted), else restarted again.
func pendingNodes(ctx context.Context, plan Plan, o Options, res Result, j *journal) ([]int, error) {
	var pending []int
	for i, n := range plan.Nodes {
		if j.done(n.Name) {
			res.Nodes[i].Status, res.Nodes[i].Restarted = StatusSkipped, false
			o.emitNode(plan, Event{Node: n.Name, Phase: PhaseSkipped, Message: "already restarted (journal)"})
			continue
		}
		if j.inProgress(n.Name) {
			if restartedSince(ctx, plan, n, o, j.doc.Identity[n.Name], identity(ctx, n)) {
				res.Nodes[i].Status = StatusSkipped
				j.set(n.Name, StatusRestarted)
				o.emitNode(plan, Event{Node: n.Name, Phase: PhaseSkipped, Message: "restarted by the last run (its identity changed since)"})
				if err := j.save(); err != nil {
					return nil, journalError(res, i, o.JournalPath, err)
				}
				continue
			}
			o.emitNode(plan, Event{Node: n.Name, Phase: PhaseWarning, Message: "the last run stopped while restarting this node and could not record " +
				"whether the restart completed: restarting it again, so that its sessions surely end"})
		}
		pending = append(pending, i)
	}
	return pending, nil
}

// nextWave is the guard: it probes every node of the plan now and takes the next pending nodes,
// in order, while at most k nodes would be unavailable and at least min_serving would serve. A
// node already down counts as unavailable; restarting it costs nothing more, so it may join any
// wave. No node can go: refused (the nodes down must come back first).
func nextWave(ctx context.Context, plan Plan, o Options, res Result, pending []int, k int) ([]int, error) {
	up := probeAll(ctx, plan, o)
	serving, ms := 0, o.minServing(len(plan.Nodes))
	var down []string
	for i, ok := range up {
		if ok {
			serving++
		} else {
			down = append(down, plan.Nodes[i].Name)
		}
	}
	unavailable := len(plan.Nodes) - serving
	var wave []int
	for _, i := range pending {
		if len(wave) == k {
			break
		}
		if up[i] {
			if unavailable+1 > k || serving-1 < ms {
				break
			}
			unavailable, serving = unavailable+1, serving-1
		}
		wave = append(wave, i)
	}
	if len(wave) > 0 {
		return wave, nil
	}
	next := plan.Nodes[pending[0]].Name
	err := fmt.Errorf("%s: only %d of %d node(s) serve now (not RUNNING: %s): taking %s down too would leave more than %d unavailable "+
		"or fewer than min_serving %d serving; nothing more was restarted (%s)", plan.Product.Name, serving, len(plan.Nodes),
		strings.Join(down, ", "), next, k, ms, summary(res))
	return nil, reauth.WithHint(reauth.WithCode(err, partialOr(res, reauth.ExitRefused)),
		"bring those nodes back to RUNNING (or wait for them to finish starting), then run again with --resume")
}

// probeAll probes every node of the plan at once: whether each is ready.
func probeAll(ctx context.Context, plan Plan, o Options) []bool {
	up := make([]bool, len(plan.Nodes))
	var wg sync.WaitGroup
	for i, n := range plan.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			up[i], _ = probe(ctx, plan, n, o)
		}()
	}
	wg.Wait()
	return up
}

// runWave restarts the nodes idx together and waits for all of them. Each is written ahead in the
// journal (so that --resume knows it was begun) and recorded as it ends. nil when all ended
// restarted; else the error that ends the run: journal, interrupted, or the wave's failures.
func runWave(ctx context.Context, plan Plan, o Options, res Result, j *journal, idx []int, wave int) error {
	ids := make([]string, len(idx))
	for w, i := range idx {
		ids[w] = identity(ctx, plan.Nodes[i])
		j.begin(plan.Nodes[i].Name, ids[w])
	}
	if err := j.save(); err != nil {
		return journalError(res, -1, o.JournalPath, err)
	}
	var (
		mu         sync.Mutex
		wg         sync.WaitGroup
		journalErr error
		journalAt  int
	)
	for w, i := range idx {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nr := restartNode(ctx, plan, plan.Nodes[i], o, ids[w])
			nr.Wave = wave
			mu.Lock()
			defer mu.Unlock()
			res.Nodes[i] = nr
			if err := j.finish(nr); err != nil && journalErr == nil {
				journalErr, journalAt = err, i
			}
		}()
	}
	wg.Wait()
	if journalErr != nil {
		return journalError(res, journalAt, o.JournalPath, journalErr)
	}
	var failed []int
	for _, i := range idx {
		if res.Nodes[i].Status != StatusRestarted {
			failed = append(failed, i)
		}
	}
	switch {
	case len(failed) == 0:
		return nil
	case ctx.Err() != nil:
		return interrupted(res, idx[len(idx)-1]+1)
	}
	return failure(res, failed, o.JournalPath)
}

// names lists the nodes idx of plan.
func names(plan Plan, idx []int) string {
	s := make([]string, len(idx))
	for w, i := range idx {
		s[w] = plan.Nodes[i].Name
	}
	return strings.Join(s, ", ")
}
