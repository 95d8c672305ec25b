package sqlstore

import (
	"math"
	"sync"
	"time"
)

// Adaptive batch size. Without --batch-size, a purge sizes its batches by how long they hold
// their locks, as the best online-change tools size their chunks by time: it starts at
// DefaultBatchSize rows and steers toward the engine's target (TargetBatchTime, or
// InnoDBTargetBatchTime on MySQL and MariaDB), between minAdaptiveBatch and MaxAdaptiveBatch
// rows, AIMD-style:
//   - increase gently: toward the size a moving average of the rows per millisecond says fits
//     the target, by at most a quarter (or a hundred rows) per batch;
//   - decrease at once: a batch over the high water mark (1.6 × the target: 80 ms of the
//     100 ms budget at the 50 ms target) halves the next size.
//
// A database that deletes fast gets fewer, larger batches (fewer commits, fsyncs and round
// trips); one that is loaded, or slow for any reason, gets smaller ones at the first slow
// batch, so that a product's own writes never wait long on them.
const (
	// TargetBatchTime is how long an adaptive batch aims to hold its locks, with room under
	// MaxBatchTime for the noise of a busy server.
	TargetBatchTime = 50 * time.Millisecond
	// InnoDBTargetBatchTime is the target on MySQL and MariaDB (caps.go says why).
	InnoDBTargetBatchTime = 30 * time.Millisecond
	// MaxBatchTime is the budget: a login may wait this long on a locked row, no longer.
	MaxBatchTime     = 100 * time.Millisecond
	MaxAdaptiveBatch = 10000
	minAdaptiveBatch = 100
)

// highWaterOf is the lock time above which the next batch is cut at once: 1.6 × the target,
// room for the ordinary noise of a busy server, no more.
func highWaterOf(target time.Duration) time.Duration { return target * 8 / 5 }

// batchSizer is a purge's batch size: fixed (--batch-size) or adaptive. Safe for the workers
// to share.
type batchSizer struct {
	mu    sync.Mutex
	n     int
	fixed bool
	rate  float64 // moving average of rows per millisecond of lock time (0: none yet)
	// target and high are the target lock time and the high water mark, in ms.
	target, high float64
}

// rateWeight is the weight of the newest batch in the moving average.
const rateWeight = 0.3

// newBatchSizer sizes o's batches toward target (Store.BatchTarget).
func newBatchSizer(o PurgeOptions, target time.Duration) *batchSizer {
	return &batchSizer{n: o.batchSize(), fixed: o.BatchSize > 0,
		target: float64(target.Microseconds()) / 1000, high: float64(highWaterOf(target).Microseconds()) / 1000}
}

// slow reports a batch that held its locks past the high water mark.
func (z *batchSizer) slow(ms float64) bool { return ms > z.high }

// size is the size of the next batch.
func (z *batchSizer) size() int {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.n
}

// observe takes a committed batch of rows rows, asked to hold at most asked, whose transaction
// held its locks for ms milliseconds. A batch much shorter than asked (the end of a window, or
// of the purge) says little about the rate and is ignored, unless it was slow all the same.
func (z *batchSizer) observe(rows, asked int, ms float64) {
	if z.fixed || ms <= 0 || rows == 0 {
		return
	}
	slow := z.slow(ms)
	if rows < asked/4 && !slow {
		return
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	r := float64(rows) / ms
	cur := float64(z.n)
	var ideal float64
	if z.rate == 0 {
		z.rate = r
	} else {
		z.rate += rateWeight * (r - z.rate)
	}
	if slow {
		// Multiplicative decrease, at once: the average would take several slow batches to
		// notice. Halved, not cut to this batch's own rate: on a shared machine a batch is
		// slow mostly because something else stalled it (a checkpoint, another job's fsync),
		// and a cut to its rate made a purge under load take twice as many batches.
		ideal = cur / 2
	} else {
		ideal = z.rate * z.target
		// (At least a hundred up: sizes are whole hundreds, and a quarter of 100 is none.)
		ideal = math.Min(math.Max(ideal, cur/2), math.Max(cur*5/4, cur+100))
	}
	// Whole hundreds: MySQL's statements carry the LIMIT in their text, and few distinct texts
	// keep the drivers' statement caches small.
	n := int(math.Floor(ideal/100)) * 100
	z.n = min(max(n, minAdaptiveBatch), MaxAdaptiveBatch)
}
