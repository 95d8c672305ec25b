package backup

import (
	"errors"
	"sync"
)

// Group lets several goroutines (the purge's database workers) append batches to one Writer and
// wait until each batch is durable. Each worker compresses its own batch (Batch.Seal), so the
// one goroutine that owns the Writer only writes and fsyncs: when several batches are waiting,
// it appends them all and one fsync covers them (group commit). The fsync is the dominant cost
// of a batch's backup, so overlapping it with other batches' database work is what makes a
// pipelined purge faster than a sequential one.
//
// Once an append or sync fails, every later Write fails with the same error without touching
// the file: a batch told "durable" never is when it is not.
type Group struct {
	w    *Writer
	in   chan *groupReq
	done chan struct{}
	// beforeSync is a test hook: an error from it is treated as a failed fsync.
	beforeSync func() error

	mu      sync.Mutex
	err     error
	closed  bool
	syncs   int
	batches int
}

type groupReq struct {
	b     *Batch
	reply chan error
}

// NewGroup starts the goroutine that owns w. Call Stop before closing w.
func NewGroup(w *Writer, beforeSync func() error) *Group {
	g := &Group{w: w, in: make(chan *groupReq), done: make(chan struct{}), beforeSync: beforeSync}
	go g.loop()
	return g
}

// Write seals b (on the caller's goroutine), appends it and returns once it is fsynced, or with
// the error that kept it from being durable. b may be reset and reused after it returns.
func (g *Group) Write(b *Batch) error {
	g.mu.Lock()
	err, closed := g.err, g.closed
	g.mu.Unlock()
	if err != nil {
		return err
	}
	if closed {
		return errors.New("backup: write after the group stopped")
	}
	if err := b.Seal(); err != nil {
		return err
	}
	r := &groupReq{b: b, reply: make(chan error, 1)}
	g.in <- r
	return <-r.reply
}

// Err is the first error the group met (nil: every batch written is durable).
func (g *Group) Err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// Stats is how many fsyncs covered how many batches (a measure of group commit).
func (g *Group) Stats() (syncs, batches int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.syncs, g.batches
}

// Stop ends the goroutine. No Write may be in progress or follow.
func (g *Group) Stop() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	close(g.in)
	<-g.done
}

func (g *Group) loop() {
	defer close(g.done)
	var pending []*groupReq
	for r := range g.in {
		pending = append(pending[:0], r)
		// Take every batch already waiting: they share this round's fsync.
	drain:
		for {
			select {
			case more, ok := <-g.in:
				if !ok {
					break drain
				}
				pending = append(pending, more)
			default:
				break drain
			}
		}
		err := g.Err()
		for _, p := range pending {
			if err == nil {
				err = g.w.AppendBatch(p.b)
			}
		}
		if err == nil && g.beforeSync != nil {
			err = g.beforeSync()
		}
		if err == nil {
			err = g.w.Sync()
		}
		g.mu.Lock()
		if err != nil && g.err == nil {
			g.err = err
		}
		g.syncs++
		g.batches += len(pending)
		g.mu.Unlock()
		for _, p := range pending {
			p.reply <- err
		}
	}
}
