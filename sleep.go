package reauth

import (
	"context"
	"time"
)

// MaxPurgeRest bounds a purge's rest after each batch, as a multiple of the batch's time (purge
// --rest, the inventory's defaults.purge_rest): at 20 the purge works 1/21 of the time.
const MaxPurgeRest = 20

// MaxPurgeRestTime bounds one rest in time, whatever the ratio: a batch slowed to seconds by a
// busy or locked database must not buy a rest of minutes, with the run lock held meanwhile.
const MaxPurgeRestTime = 5 * time.Second

// Sleep waits d or until ctx is done, whichever comes first, and returns ctx.Err() when ctx
// ended the wait. A wait of d <= 0 returns at once, with ctx.Err(): a cancelled run never takes
// one more step because its next wait happened to be zero.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
