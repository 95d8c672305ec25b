package sqlstore

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func TestBatchSizer(t *testing.T) {
	fixed := newBatchSizer(PurgeOptions{BatchSize: 700}, TargetBatchTime)
	fixed.observe(700, 700, 1)
	fixed.observe(700, 700, 10000)
	if n := fixed.size(); n != 700 {
		t.Fatalf("--batch-size 700 became %d", n)
	}

	z := newBatchSizer(PurgeOptions{}, TargetBatchTime)
	if n := z.size(); n != DefaultBatchSize {
		t.Fatalf("starts at %d, want %d", n, DefaultBatchSize)
	}
	// Fast batches (2000 rows in 10 ms, a fifth of the target): at most 1.25x (or +100) per batch, up to
	// the maximum, in whole hundreds.
	prev := z.size()
	for range 20 {
		n := z.size()
		z.observe(n, n, 10)
		got := z.size()
		if got > max(prev*5/4, prev+100) || got < prev || got%100 != 0 {
			t.Fatalf("after a fast batch of %d: %d", prev, got)
		}
		prev = got
	}
	if prev != MaxAdaptiveBatch {
		t.Fatalf("fast batches settle at %d, want the maximum %d", prev, MaxAdaptiveBatch)
	}
	// A short, quick batch (the end of a window) says nothing about the rate.
	z.observe(10, prev, 5)
	if z.size() != prev {
		t.Fatalf("a 10-row batch moved the size to %d", z.size())
	}
	// Slow batches (ten times the target): halved at once, down to the minimum.
	for range 20 {
		n := z.size()
		z.observe(n, n, float64(10*TargetBatchTime.Milliseconds()))
		if got := z.size(); got > max(n/2, minAdaptiveBatch) {
			t.Fatalf("after a slow batch of %d: %d", n, got)
		}
	}
	if n := z.size(); n != minAdaptiveBatch {
		t.Fatalf("slow batches settle at %d, want the minimum %d", n, minAdaptiveBatch)
	}
	// On target: the size stays. One batch a bit slower (under the high water mark) moves it a
	// little; one over it at least halves it at once.
	z = newBatchSizer(PurgeOptions{}, TargetBatchTime)
	for range 5 {
		z.observe(DefaultBatchSize, DefaultBatchSize, float64(TargetBatchTime.Milliseconds()))
	}
	if n := z.size(); n != DefaultBatchSize {
		t.Fatalf("batches on target moved the size to %d", n)
	}
	z.observe(DefaultBatchSize, DefaultBatchSize, float64(highWaterOf(TargetBatchTime).Milliseconds())-5)
	if n := z.size(); n < DefaultBatchSize*3/4 || n >= DefaultBatchSize {
		t.Fatalf("a batch under the high water mark moved the size from %d to %d", DefaultBatchSize, n)
	}
	n := z.size()
	z.observe(n, n, float64(highWaterOf(TargetBatchTime).Milliseconds())+5)
	if got := z.size(); got > n/2 {
		t.Fatalf("a batch over the high water mark moved the size from %d only to %d", n, got)
	}
	// A short batch that was slow all the same counts.
	n = z.size()
	z.observe(10, n, 3*float64(MaxBatchTime.Milliseconds()))
	if got := z.size(); got > n/2 {
		t.Fatalf("a short, slow batch moved the size from %d only to %d", n, got)
	}
}

// TestEngineBatchSizing: MySQL and MariaDB aim their batches at InnoDBTargetBatchTime and run
// three at once (at most two in their DELETE); the other engines keep TargetBatchTime and
// DefaultWorkers. A 60 ms batch is ordinary at the 50 ms target and over InnoDB's high water
// mark (48 ms), which halves the next.
func TestEngineBatchSizing(t *testing.T) {
	for _, tc := range []struct {
		d       Dialect
		target  time.Duration
		workers int
	}{
		{MySQL{MariaDB: true}, InnoDBTargetBatchTime, 3},
		{MySQL{}, InnoDBTargetBatchTime, 3},
		{Postgres{}, TargetBatchTime, DefaultWorkers},
		{SQLServer{}, TargetBatchTime, DefaultWorkers},
		{Oracle{}, TargetBatchTime, DefaultWorkers},
		{SQLite{}, TargetBatchTime, 1},
	} {
		s := &Store{dialect: tc.d}
		if got := s.BatchTarget(); got != tc.target {
			t.Errorf("%T: batch target %v, want %v", tc.d, got, tc.target)
		}
		if got := s.workers(PurgeOptions{}); got != tc.workers {
			t.Errorf("%T: %d workers, want %d", tc.d, got, tc.workers)
		}
		if c := tc.d.caps(); c.deleteSlots != 0 && c.deleteSlots >= tc.workers {
			t.Errorf("%T: %d delete slots for %d workers: no worker overlaps its commit", tc.d, c.deleteSlots, tc.workers)
		}
		if got, want := s.workers(PurgeOptions{Workers: 2}), min(2, tc.workers); got != want {
			t.Errorf("%T: Workers 2 gave %d, want %d", tc.d, got, want)
		}
		z := newBatchSizer(PurgeOptions{}, s.BatchTarget())
		z.observe(DefaultBatchSize, DefaultBatchSize, 60)
		halved := z.size() <= DefaultBatchSize/2
		if want := highWaterOf(tc.target) < 60*time.Millisecond; halved != want {
			t.Errorf("%T: a 60 ms batch of %d: next %d (halved %v, want %v)", tc.d, DefaultBatchSize, z.size(), halved, want)
		}
	}
}

// TestBatchSizerConverges simulates a database whose batches take rows/rate ms plus noise, with
// a stall now and then and a rate that drops to a fifth halfway (another job takes the CPU): the
// size converges near rate × target, never exceeds MaxAdaptiveBatch, and after the drop the
// batches are back under the budget within a few batches.
func TestBatchSizerConverges(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	target := float64(TargetBatchTime.Milliseconds())
	for _, rate := range []float64{15, 40, 100, 1000} { // rows per ms (a fifth of 15 still fits minAdaptiveBatch in the target)
		z := newBatchSizer(PurgeOptions{}, TargetBatchTime)
		over, afterDrop := 0, -1
		for i := range 600 {
			r := rate
			if i >= 300 {
				r = rate / 5
			}
			n := z.size()
			if n > MaxAdaptiveBatch || n < minAdaptiveBatch {
				t.Fatalf("rate %.0f: size %d out of bounds", rate, n)
			}
			ms := float64(n) / r * (0.85 + 0.3*rnd.Float64())
			if i%97 == 50 {
				ms += 150 // a stall (a checkpoint, an fsync behind another job's writes)
			}
			if i >= 300 && ms > float64(MaxBatchTime.Milliseconds()) && i%97 != 50 {
				over++
				afterDrop = max(afterDrop, i)
			}
			z.observe(n, n, ms)
			if i == 290 || i == 590 {
				want := min(max(r*target, minAdaptiveBatch), MaxAdaptiveBatch)
				if got := float64(z.size()); got < want*0.6 || got > want*1.4 {
					t.Fatalf("rate %.0f rows/ms: settled at %.0f rows, want about %.0f", r, got, want)
				}
			}
		}
		if over > 3 || afterDrop > 310 {
			t.Fatalf("rate %.0f: %d batches over budget after the drop, the last at batch %d", rate, over, afterDrop)
		}
	}
}

// TestDeleteSlots: at most n batches hold a slot at once, a release given twice frees one slot,
// and a waiter gives up when its context ends.
func TestDeleteSlots(t *testing.T) {
	var none deleteSlots
	if rel, err := none.take(t.Context()); err != nil {
		t.Fatal(err)
	} else {
		rel()
	}
	d := make(deleteSlots, 2)
	var mu sync.Mutex
	in, most := 0, 0
	var wg sync.WaitGroup
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rel, err := d.take(t.Context())
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			in++
			most = max(most, in)
			mu.Unlock()
			time.Sleep(2 * time.Millisecond)
			mu.Lock()
			in--
			mu.Unlock()
			rel()
			rel() // once only
		}()
	}
	wg.Wait()
	if most != 2 {
		t.Fatalf("%d batches in their delete at once, want 2", most)
	}
	a, _ := d.take(t.Context())
	b, _ := d.take(t.Context())
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := d.take(ctx); err == nil {
		t.Fatal("a third take with both slots held did not wait")
	}
	a()
	b()
	if len(d) != 0 {
		t.Fatalf("%d slots still held after both released", len(d))
	}
}
