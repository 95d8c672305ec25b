package apimode

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/reauth/reauth"
)

// BreakerOptions say when the product counts as failing and the run stops. A failure is an
// answer other than 2xx, 404 or 429 (those are success, "no such user" and overload), or no
// answer at all. Zero values mean the defaults.
type BreakerOptions struct {
	// Consecutive failures, across all workers, that stop the run (default 10).
	Consecutive int
	// Window is how many recent calls the failure ratio looks at (default 50); the run stops
	// when more than MaxFailRatio of a full window failed (default 0.5).
	Window       int
	MaxFailRatio float64
}

func (b *BreakerOptions) defaults() {
	if b.Consecutive <= 0 {
		b.Consecutive = 10
	}
	if b.Window <= 0 {
		b.Window = 50
	}
	if b.MaxFailRatio <= 0 || b.MaxFailRatio >= 1 {
		b.MaxFailRatio = 0.5
	}
}

// breaker is a circuit breaker that only ever opens: a product that starts failing in the middle
// of a forced logout needs an operator, not an automatic retry storm.
type breaker struct {
	o           BreakerOptions
	mu          sync.Mutex
	consecutive int
	ring        []bool
	next, fails int
	filled      bool
	open        bool
}

func newBreaker(o BreakerOptions) *breaker {
	o.defaults()
	return &breaker{o: o, ring: make([]bool, o.Window)}
}

// record adds one call's outcome and reports whether the breaker (now) trips, and why.
func (b *breaker) record(failure bool) (bool, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.open {
		return false, "" // already tripped: only the first tripping call stops the run
	}
	if failure {
		b.consecutive++
	} else {
		b.consecutive = 0
	}
	if b.ring[b.next] {
		b.fails--
	}
	b.ring[b.next] = failure
	if failure {
		b.fails++
	}
	b.next = (b.next + 1) % len(b.ring)
	if b.next == 0 {
		b.filled = true
	}
	switch {
	case b.consecutive >= b.o.Consecutive:
		b.open = true
		return true, fmt.Sprintf("%d consecutive failed calls (retries included)", b.consecutive)
	case b.filled && float64(b.fails) > b.o.MaxFailRatio*float64(len(b.ring)):
		b.open = true
		return true, fmt.Sprintf("%d of the last %d calls failed (retries included)", b.fails, len(b.ring))
	}
	return false, ""
}

// pacer spaces calls evenly at a rate (no bursts: a product under a forced logout of every user
// should see a steady load). A zero rate never waits.
type pacer struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
}

func newPacer(perSec float64) *pacer {
	p := &pacer{}
	if perSec > 0 {
		p.interval = time.Duration(float64(time.Second) / perSec)
	}
	return p
}

func (p *pacer) wait(ctx context.Context) error {
	if p.interval <= 0 {
		return ctx.Err()
	}
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	at := p.next
	p.next = p.next.Add(p.interval)
	p.mu.Unlock()
	return reauth.Sleep(ctx, time.Until(at))
}
