package runbook

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/liveview"
	"github.com/reauth/reauth/internal/termsafe"
)

// parallelism is how many products work at once: --parallel, else the inventory's
// defaults.parallel, else all of them.
func (o *Options) parallelism(n int) int {
	p := o.Parallel
	if p <= 0 {
		p = o.Inventory.Defaults.Parallel
	}
	if p <= 0 || p > n {
		p = n
	}
	return max(p, 1)
}

// runAll runs the products in order, up to o.Parallel at once. A product that fails or is
// interrupted lets the others working finish (each stops only at its own safe points, on Ctrl-C);
// after a failure or a Ctrl-C no new product starts. It returns every product's error, combined.
func runAll(ctx context.Context, o Options, order []*unit, s *scheduler) error {
	names := make([]string, len(order))
	for i, u := range order {
		names[i] = u.name
	}
	view := liveview.New(o.Err, o.Live, names, "waiting for a slot")
	view.Run()
	defer view.Close()
	o.stopNote.working(view, order)
	defer o.stopNote.working(nil, nil)
	slots := make(chan struct{}, o.parallelism(len(order)))
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed bool
	)
	for _, u := range order {
		u.view, u.sched = view, s
		oc := *u.o
		oc.Err = view.Writer(u.name) // its messages stay whole and name it, between the others'
		u.o = &oc
		acquired := false
		select {
		case slots <- struct{}{}:
			acquired = true
		case <-o.Stop.Done():
		case <-ctx.Done():
		}
		mu.Lock()
		stop := failed
		mu.Unlock()
		if !acquired || stop || o.Stop.Stopping() || ctx.Err() != nil {
			if acquired {
				<-slots
			}
			u.notStarted(o, stop)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			view.Start(u.name, 0)
			u.err = u.execute(ctx)
			u.report.ExitCode = int(reauth.CodeOf(u.err))
			s.end(u, u.err == nil)
			view.Finish(u.name, u.report.Status)
			if u.err != nil {
				mu.Lock()
				failed = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return combine(order)
}

// notStarted records a product the run did not begin: after a failure, or on Ctrl-C.
func (u *unit) notStarted(o Options, afterFailure bool) {
	u.report.Status = StatusNotStarted
	if !afterFailure {
		u.err = reauth.WithHint(fmt.Errorf("%s: %w before it started", u.name, reauth.ErrInterrupted), "run again with --resume to continue")
		u.report.Error, u.report.ExitCode = u.err.Error(), int(reauth.ExitInterrupted)
	}
	u.sched.end(u, false)
	u.view.Finish(u.name, u.report.Status)
}

// combine is the run's error from its products' errors: nil when none failed; the one error when
// one did; else one error naming each product, with the most severe exit code (and its hint).
func combine(units []*unit) error {
	var errs []*unit
	for _, u := range units {
		if u.err != nil {
			errs = append(errs, u)
		}
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0].err
	}
	var msgs []string
	worst := errs[0]
	for _, u := range errs {
		msg := u.err.Error()
		if !strings.HasPrefix(msg, u.name+":") {
			msg = u.name + ": " + msg
		}
		msgs = append(msgs, msg)
		if reauth.MostSevere(reauth.CodeOf(worst.err), reauth.CodeOf(u.err)) != reauth.CodeOf(worst.err) {
			worst = u
		}
	}
	return &reauth.Error{Code: reauth.CodeOf(worst.err), Hint: reauth.HintOf(worst.err),
		Err: fmt.Errorf("%d products did not finish:\n  %s", len(errs), strings.Join(msgs, "\n  "))}
}

// enter waits until the product may begin stage st (see scheduler.enter).
func (u *unit) enter(ctx context.Context, st Stage) error {
	if u.sched != nil {
		if err := u.sched.enter(ctx, u, st); err != nil {
			return err
		}
		u.show(st.String())
	}
	u.lockPhase(ctx, st.String())
	return nil
}

// leave records the end of stage st: finished when ok, else given up.
func (u *unit) leave(st Stage, ok bool) {
	if u.sched == nil {
		return
	}
	u.sched.leave(u, st, ok)
}

// show sets the product's progress line (a plain "product: text" line when not on a terminal).
func (u *unit) show(text string) {
	if u.view != nil {
		u.view.Update(u.name, text)
		return
	}
	fmt.Fprintf(u.o.Err, "%s: %s\n", termsafe.Field(u.name), termsafe.Field(text))
}

// eachUnit runs f for every unit at once (preflight, plan: reads, and the lock, of independent
// products) and returns the errors in the units' order.
func eachUnit(units []*unit, f func(u *unit) error) []error {
	errs := make([]error, len(units))
	var wg sync.WaitGroup
	for i, u := range units {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(u)
		}()
	}
	wg.Wait()
	return errs
}
