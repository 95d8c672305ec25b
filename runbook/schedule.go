package runbook

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/reauth/reauth"
)

// Products of one run work at the same time (up to Options.Parallel at once), each in its own
// goroutine, one node at a time within a product. What may not overlap is said by two kinds of
// rules over pairs of products, checked each time a product is about to begin a stage:
//
//   - order rules: "a must finish stage X before b begins stage Y" (Crowd's sessions end before the
//     applications that trust it begin theirs);
//   - exclusion rules: "a and b are never in stage X at the same time" (purges on one database
//     server, which takes their load, run one at a time).
//
// Products start in an order that puts every product after those it waits for, and a product
// holds its slot while it waits, so waits only ever point at products that already hold a slot:
// no deadlock. A cycle in the order rules is refused before anything changes.

// Stage is a part of a product's run that the rules name. Stages only move forward; a resumed
// product begins at the stage its journal reached, and has finished the ones before it.
type Stage int

const (
	StageStart    Stage = iota // the lock checked, the canary logged in, the cut-off fixed
	StagePurge                 // the purge, with its backup
	StageSessions              // in-memory sessions end: the rolling restart, or the session API
	StageVerify                // the checks
	stageCount
)

func (s Stage) String() string {
	return [...]string{"start", "purge", "sessions", "verify"}[s]
}

// OrderRule says whether a must finish stage done before b may begin stage begin (or any later
// stage). ok is false when the rule does not relate a and b.
type OrderRule func(a, b *unit) (done, begin Stage, ok bool)

// ExclusionRule says whether a and b may not be in stage s at the same time, and why (shown while
// one waits for the other).
type ExclusionRule func(a, b *unit) (s Stage, why string, ok bool)

// orderRules are the run's order rules.
func orderRules() []OrderRule { return []OrderRule{crowdSessionsFirst} }

// crowdSessionsFirst: Crowd's sessions end before those of the applications that trust its SSO
// begin to (mustPrecede): while a Crowd session lives, the application logs its browser straight
// back in. The applications' purges may overlap Crowd's work: a sign-in through SSO after an
// application's cut-off starts a session there (which its restart, after Crowd's, ends), not a
// token issued before the cut-off.
func crowdSessionsFirst(a, b *unit) (Stage, Stage, bool) {
	ok, _ := mustPrecede(a, b)
	return StageSessions, StageSessions, ok
}

// exclusionRules are the run's exclusion rules.
func exclusionRules() []ExclusionRule { return []ExclusionRule{sameServerPurge} }

// sameServerPurge: two products whose databases are on one server purge one at a time.
func sameServerPurge(a, b *unit) (Stage, string, bool) {
	sa, sb := a.db.Server(), b.db.Server()
	if sa == "" || sa != sb {
		return 0, "", false
	}
	return StagePurge, "same database server " + a.db.Addr(), true
}

// scheduler keeps track of every product's stage and makes products wait where the rules say.
type scheduler struct {
	mu      sync.Mutex
	changed chan struct{} // closed (and replaced) on every change
	units   []*unit
	state   map[*unit]*unitState
	order   []OrderRule
	exclude []ExclusionRule
	stop    reauth.Stop
}

type unitState struct {
	in       Stage // the stage the product is in, when active
	active   bool
	finished [stageCount]bool
	ended    bool
}

func newScheduler(units []*unit, stop reauth.Stop) *scheduler {
	s := &scheduler{changed: make(chan struct{}), units: units, state: map[*unit]*unitState{},
		order: orderRules(), exclude: exclusionRules(), stop: stop}
	for _, u := range units {
		s.state[u] = &unitState{}
	}
	return s
}

// startOrder sorts units so that every product comes after those it must wait for (otherwise
// keeping the inventory's order), or refuses a cycle, naming it.
func (s *scheduler) startOrder() ([]*unit, error) {
	var out []*unit
	placed := map[*unit]bool{}
	for len(out) < len(s.units) {
		progress := false
		for _, b := range s.units {
			if placed[b] {
				continue
			}
			ready := true
			for _, a := range s.units {
				if a != b && !placed[a] && s.mustWait(a, b) {
					ready = false
					break
				}
			}
			if ready {
				out, placed[b], progress = append(out, b), true, true
				break // from the start again: the inventory's order wins among the ready ones
			}
		}
		if !progress {
			var left []string
			for _, u := range s.units {
				if !placed[u] {
					left = append(left, u.name)
				}
			}
			return nil, reauth.Usage("check the products' order rules (which product must finish before which)",
				"the products %s wait for each other in a cycle", strings.Join(left, ", "))
		}
	}
	return out, nil
}

// mustWait reports whether an order rule makes b wait for a.
func (s *scheduler) mustWait(a, b *unit) bool {
	for _, r := range s.order {
		if _, _, ok := r(a, b); ok {
			return true
		}
	}
	return false
}

// enter waits until u may begin stage st, then records it there. It returns an error when u must
// stop instead: the operator asked to stop (not before StageVerify, which only reads and gives
// the proof), or a product u waits for ended without finishing what u waits for.
func (s *scheduler) enter(ctx context.Context, u *unit, st Stage) error {
	shown := ""
	for {
		s.mu.Lock()
		me := s.state[u]
		for p := Stage(0); p < st; p++ {
			me.finished[p] = true // a resumed product skipped them in an earlier run
		}
		why, err := s.blocked(u, st)
		if why == "" && err == nil {
			me.in, me.active = st, true
			s.broadcast()
			s.mu.Unlock()
			return nil
		}
		ch := s.changed
		s.mu.Unlock()
		if err != nil {
			return err
		}
		if why != shown {
			shown = why
			u.show("waiting before its " + st.String() + ": " + why)
		}
		var stop <-chan struct{}
		if st != StageVerify {
			stop = s.stop.Done()
		}
		select {
		case <-ch:
		case <-stop:
			return reauth.WithHint(fmt.Errorf("%s: %w before its %s", u.name, reauth.ErrInterrupted, st),
				"run again with --resume to continue")
		case <-ctx.Done():
			return reauth.WithCode(fmt.Errorf("%s: stopped before its %s: %w", u.name, st, ctx.Err()), reauth.ExitInterrupted)
		}
	}
}

// blocked says why u cannot begin st now ("" when it can), or an error when it never will.
// Caller holds mu.
func (s *scheduler) blocked(u *unit, st Stage) (string, error) {
	if st != StageVerify && s.stop.Stopping() {
		return "", reauth.WithHint(fmt.Errorf("%s: %w before its %s", u.name, reauth.ErrInterrupted, st),
			"run again with --resume to continue")
	}
	for _, a := range s.units {
		if a == u {
			continue
		}
		sa := s.state[a]
		for _, r := range s.order {
			done, begin, ok := r(a, u)
			if !ok || begin > st || sa.finished[done] {
				continue
			}
			if sa.ended {
				return "", reauth.Failed("finish "+a.name+" first (see its error), then run again with --resume",
					"%s: stopped before its %s: %s did not finish its %s", u.name, st, a.name, done)
			}
			return fmt.Sprintf("%s must finish its %s first", a.name, done), nil
		}
		if !sa.active {
			continue
		}
		for _, r := range s.exclude {
			if x, why, ok := r(a, u); ok && x == st && sa.in == st {
				return fmt.Sprintf("%s is in its %s (%s)", a.name, st, why), nil
			}
		}
	}
	return "", nil
}

// leave records that u left stage st: finished when ok, else given up.
func (s *scheduler) leave(u *unit, st Stage, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	me := s.state[u]
	me.finished[st] = me.finished[st] || ok
	me.active = false
	s.broadcast()
}

// end records that u's run is over: done (every stage finished) or not.
func (s *scheduler) end(u *unit, done bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	me := s.state[u]
	me.ended, me.active = true, false
	if done {
		for i := range me.finished {
			me.finished[i] = true
		}
	}
	s.broadcast()
}

func (s *scheduler) broadcast() {
	close(s.changed)
	s.changed = make(chan struct{})
}
