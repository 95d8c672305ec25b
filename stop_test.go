package reauth

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestStopZeroNeverFires(t *testing.T) {
	var s Stop
	if s.Stopping() || s.Done() != nil {
		t.Fatal("the zero Stop fired")
	}
}

func TestStopWhen(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := StopWhen(ctx)
	if s.Stopping() {
		t.Fatal("fired before its context was done")
	}
	cancel()
	if !s.Stopping() {
		t.Fatal("did not fire when its context was done")
	}
}

// The first signal fires Stop and leaves the context alone; the second cancels the context.
func TestInterruptsTwoStages(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	firsts := make(chan struct{}, 2)
	ctx, stop, release := Interrupts(sigs, func() { firsts <- struct{}{} })
	defer release()
	sigs <- syscall.SIGINT
	select {
	case <-stop.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the first signal did not fire Stop")
	}
	<-firsts
	if ctx.Err() != nil {
		t.Fatal("the first signal cancelled the context")
	}
	sigs <- syscall.SIGTERM
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the second signal did not cancel the context")
	}
	if len(firsts) != 0 {
		t.Fatal("onFirst ran twice")
	}
}

func TestStopContextCancelsOnTheFirstStage(t *testing.T) {
	stop, fire := NewStop()
	ctx, cancel := stop.Context(context.Background())
	defer cancel()
	if ctx.Err() != nil {
		t.Fatal("cancelled before the stop fired")
	}
	fire()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the first stage did not cancel the context")
	}
	// The zero Stop never cancels; the parent still does.
	parent, pcancel := context.WithCancel(context.Background())
	zctx, zcancel := Stop{}.Context(parent)
	defer zcancel()
	pcancel()
	<-zctx.Done()
}
