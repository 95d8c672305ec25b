package sqlstore

import (
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reauth/reauth"
)

// --rest: after each batch a worker rests Rest times the batch's time, and the purge is still
// complete and backed up; without it no worker rests.
func TestRestAfterBatches(t *testing.T) {
	onServers(t, false, func(t *testing.T, tg target) {
		ctx := ctxT(t)
		setupJira(t, tg, 300)
		for i, r := range []float64{0, 1.5} {
			if i > 0 {
				seedJira(t, tg, 1, 300) // the same rows again: the first purge left the table empty
			}
			s := openStore(t, tg, "jira", Options{})
			if k := s.workers(PurgeOptions{Rest: r}); (r > 0) != (k == 1) {
				t.Errorf("rest %v: %d workers by default; a purge that rests runs one batch at a time, one that does not runs more", r, k)
			}
			var mu sync.Mutex
			var rests []time.Duration
			s.restFor = func(d time.Duration) time.Duration {
				mu.Lock()
				rests = append(rests, d)
				mu.Unlock()
				return d
			}
			t0 := time.Now()
			path := filepath.Join(t.TempDir(), "b")
			res, err := s.Purge(ctx, PurgeOptions{BatchSize: 50, Workers: 2, Rest: r, BackupPath: path})
			elapsed := time.Since(t0)
			if err != nil || res.Deleted != 300 {
				t.Fatalf("rest %v: %+v %v", r, res, err)
			}
			checkTablePlusBackup(t, tg, path, 300)
			var sum time.Duration
			for _, d := range rests {
				if d <= 0 {
					t.Errorf("rest %v: a rest of %s", r, d)
				}
				sum += d
			}
			switch {
			case r == 0 && len(rests) != 0:
				t.Errorf("no rest asked, yet %d rests", len(rests))
			case r > 0 && len(rests) < res.Batches:
				t.Errorf("rest %v: %d rests for %d batches", r, len(rests), res.Batches)
			case r > 0 && elapsed < sum/2: // two workers rest side by side
				t.Errorf("rest %v: the purge took %s, less than its rests allow (%s over 2 workers)", r, elapsed, sum)
			}
			t.Logf("rest %v: %d batches, %d rests (%s in all), purge %s", r, res.Batches, len(rests), sum, elapsed)
		}
	})
}

// Ctrl-C during a rest ends the purge at once, as after any batch: interrupted, with a checked
// backup of what was deleted.
func TestStopDuringRest(t *testing.T) {
	tg := pgTarget(t)
	setupJira(t, tg, 300)
	s := openStore(t, tg, "jira", Options{})
	stop, interrupt := reauth.NewStop()
	s.restFor = func(time.Duration) time.Duration {
		interrupt()
		return time.Hour
	}
	path := filepath.Join(t.TempDir(), "b")
	done := make(chan struct{})
	var res PurgeResult
	var err error
	go func() {
		res, err = s.Purge(ctxT(t), PurgeOptions{BatchSize: 50, Workers: 2, Rest: MaxRest, BackupPath: path, Stop: stop})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("Ctrl-C during an hour's rest did not end the purge")
	}
	if reauth.CodeOf(err) != reauth.ExitInterrupted || res.Deleted == 0 || res.Deleted >= 300 {
		t.Fatalf("stopped in a rest: %+v %v", res, err)
	}
	if h := reauth.HintOf(err); !strings.Contains(h, "--cutoff-id 300") || !strings.Contains(h, "--rest 20") {
		t.Errorf("the hint to finish the purge does not keep its cut-off and its rest: %s", h)
	}
	checkTablePlusBackup(t, tg, path, 300)
}

func TestCheckRest(t *testing.T) {
	for _, r := range []float64{-0.5, MaxRest + 1, math.NaN(), math.Inf(1)} {
		if err := CheckRest(r); reauth.CodeOf(err) != reauth.ExitUsage || reauth.HintOf(err) == "" {
			t.Errorf("rest %v: %v, want a usage error with a hint", r, err)
		}
	}
	for _, r := range []float64{0, 0.25, 1, MaxRest} {
		if err := CheckRest(r); err != nil {
			t.Errorf("rest %v: %v", r, err)
		}
	}
}

// A rest is R times its batch's time, but never longer than reauth.MaxPurgeRestTime: a batch
// that a locked database slowed to a minute does not buy a rest of twenty.
func TestRestAfterIsCapped(t *testing.T) {
	s := &Store{}
	for _, tc := range []struct {
		took time.Duration
		r    float64
		want time.Duration
	}{
		{10 * time.Millisecond, 1, 10 * time.Millisecond},
		{50 * time.Millisecond, MaxRest, time.Second},
		{time.Minute, MaxRest, reauth.MaxPurgeRestTime},
		{time.Hour, 0.5, reauth.MaxPurgeRestTime},
	} {
		if got := s.restAfter(tc.took, tc.r); got != tc.want {
			t.Errorf("rest after %s at %v: %s, want %s", tc.took, tc.r, got, tc.want)
		}
	}
}
