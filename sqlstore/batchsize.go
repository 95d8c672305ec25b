package sqlstore

import (
	"math"
	"sync"
	"time"
)

// Adaptive batch size. Without --batch-size, a purge sizes its batches by how long they hold
// their locks, as the best online-change tools size their chunks by time: it starts at
// DefaultBatchSize rows and moves each batch toward TargetBatchTime, between minAdaptiveBatch and
// MaxAdaptiveBatch rows, by at most half down or up per batch, following a moving average of
// the rows per millisecond (one batch slowed by a busy CPU does not halve the next). A database that deletes fast gets
// fewer, larger batches (fewer commits, fsyncs and round trips); one that is loaded, or slow
// for any reason, gets smaller ones, so that a product's own writes never wait long on them.
const (
	// TargetBatchTime is how long an adaptive batch aims to hold its locks: well under the
	// 100 ms a login may wait on a locked row, with room for the noise of a busy server.
	TargetBatchTime  = 50 * time.Millisecond
	MaxAdaptiveBatch = 10000
	minAdaptiveBatch = 200
)

// batchSizer is a purge's batch size: fixed (--batch-size) or adaptive. Safe for the workers
// to share.
type batchSizer struct {
	mu    sync.Mutex
	n     int
	fixed bool
	rate  float64 // moving average of rows per millisecond of lock time (0: none yet)
}

// rateWeight is the weight of the newest batch in the moving average.
const rateWeight = 0.3

func newBatchSizer(o PurgeOptions) *batchSizer {
	return &batchSizer{n: o.batchSize(), fixed: o.BatchSize > 0}
}

// size is the size of the next batch.
func (z *batchSizer) size() int {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.n
}

// observe takes a committed batch of rows rows, asked to hold at most asked, whose transaction
// held its locks for ms milliseconds. A batch much shorter than asked (the end of a window, or
// of the purge) says little about the rate and is ignored.
func (z *batchSizer) observe(rows, asked int, ms float64) {
	if z.fixed || ms <= 0 || rows < asked/4 || rows == 0 {
		return
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if r := float64(rows) / ms; z.rate == 0 {
		z.rate = r
	} else {
		z.rate += rateWeight * (r - z.rate)
	}
	ideal := z.rate * float64(TargetBatchTime.Microseconds()) / 1000
	cur := float64(z.n)
	ideal = math.Min(math.Max(ideal, cur/2), cur*3/2)
	// Whole hundreds: MySQL's statements carry the LIMIT in their text, and few distinct texts
	// keep the drivers' statement caches small.
	n := int(math.Floor(ideal/100)) * 100
	z.n = min(max(n, minAdaptiveBatch), MaxAdaptiveBatch)
}
