package reauth

import (
	"context"
	"os"
	"sync"
)

// Stop is Ctrl-C's two stages, as every long step of reauth sees them. The first Ctrl-C (or
// SIGTERM) makes Stopping true: the step finishes what it has in hand (the purge batch in flight,
// the node being restarted) and stops at its next safe point. The second cancels the step's
// context: every wait is abandoned at once. Signals are registered in main only (Interrupts);
// the packages receive a Stop and a context, and never convert one into the other.
//
// The zero Stop never fires.
type Stop struct {
	c <-chan struct{}
}

// Stopping reports whether the first stage has fired.
func (s Stop) Stopping() bool {
	if s.c == nil {
		return false
	}
	select {
	case <-s.c:
		return true
	default:
		return false
	}
}

// Done is closed when the first stage fires (nil, never closed, for the zero Stop).
func (s Stop) Done() <-chan struct{} { return s.c }

// NewStop returns a Stop and the function that fires it (idempotent).
func NewStop() (Stop, func()) {
	c := make(chan struct{})
	var once sync.Once
	return Stop{c: c}, func() { once.Do(func() { close(c) }) }
}

// Context is ctx, also cancelled when the first stage fires: for a step that has no safe point
// to wait for (a connect), so that the first Ctrl-C already stops it.
func (s Stop) Context(ctx context.Context) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(ctx)
	if s.c != nil {
		go func() {
			select {
			case <-s.c:
				cancel()
			case <-c.Done():
			}
		}()
	}
	return c, cancel
}

// StopWhen is a Stop that fires when ctx is done: a caller whose cancellation means "stop at the
// next safe point".
func StopWhen(ctx context.Context) Stop { return Stop{c: ctx.Done()} }

// Interrupts turns signals into the two stages: the first fires the returned Stop (and onFirst,
// if not nil), the second cancels the returned context. release stops watching.
func Interrupts(sigs <-chan os.Signal, onFirst func()) (ctx context.Context, stop Stop, release func()) {
	ctx, abort := context.WithCancel(context.Background())
	stop, graceful := NewStop()
	done := make(chan struct{})
	go func() {
		for n := 0; ; {
			select {
			case <-done:
				return
			case <-sigs:
				if n++; n == 1 {
					graceful()
					if onFirst != nil {
						onFirst()
					}
				} else {
					abort()
					return
				}
			}
		}
	}()
	return ctx, stop, func() { close(done); abort() }
}
