package sqlstore

import "testing"

func TestBatchSizer(t *testing.T) {
	fixed := newBatchSizer(PurgeOptions{BatchSize: 700})
	fixed.observe(700, 700, 1)
	fixed.observe(700, 700, 10000)
	if n := fixed.size(); n != 700 {
		t.Fatalf("--batch-size 700 became %d", n)
	}

	z := newBatchSizer(PurgeOptions{})
	if n := z.size(); n != DefaultBatchSize {
		t.Fatalf("starts at %d, want %d", n, DefaultBatchSize)
	}
	// Fast batches (2000 rows in 10 ms, a quarter of the target): at most 1.5x per batch, up to
	// the maximum, in whole hundreds.
	prev := z.size()
	for range 20 {
		n := z.size()
		z.observe(n, n, 10)
		got := z.size()
		if got > prev*3/2 || got < prev || got%100 != 0 {
			t.Fatalf("after a fast batch of %d: %d", prev, got)
		}
		prev = got
	}
	if prev != MaxAdaptiveBatch {
		t.Fatalf("fast batches settle at %d, want the maximum %d", prev, MaxAdaptiveBatch)
	}
	// A short batch (the end of a window) says nothing about the rate.
	z.observe(10, prev, 500)
	if z.size() != prev {
		t.Fatalf("a 10-row batch moved the size to %d", z.size())
	}
	// Slow batches (ten times the target): at most halved per batch, down to the minimum.
	for range 20 {
		n := z.size()
		z.observe(n, n, float64(10*TargetBatchTime.Milliseconds()))
		if got := z.size(); got < n/2-100 || got > n {
			t.Fatalf("after a slow batch of %d: %d", n, got)
		}
	}
	if n := z.size(); n != minAdaptiveBatch {
		t.Fatalf("slow batches settle at %d, want the minimum %d", n, minAdaptiveBatch)
	}
	// On target: the size stays; one batch ten times slower (a busy CPU) does not halve it.
	z = newBatchSizer(PurgeOptions{})
	for range 5 {
		z.observe(DefaultBatchSize, DefaultBatchSize, float64(TargetBatchTime.Milliseconds()))
	}
	if n := z.size(); n != DefaultBatchSize {
		t.Fatalf("batches on target moved the size to %d", n)
	}
	z.observe(DefaultBatchSize, DefaultBatchSize, float64(10*TargetBatchTime.Milliseconds()))
	if n := z.size(); n <= DefaultBatchSize/2 || n >= DefaultBatchSize {
		t.Fatalf("one slow batch moved the size from %d to %d", DefaultBatchSize, n)
	}
}
