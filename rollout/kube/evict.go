package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Defaults of PodRestarter.EvictWait and EvictPoll. reauth touches a pod only once the previous
// one is Ready again, so a budget that allows one pod down refuses only while something else
// holds a pod down; a few minutes lets that pass, and then the run stops with the budget named.
const (
	defaultEvictWait = 5 * time.Minute
	defaultEvictPoll = 5 * time.Second
)

// evict asks the API server to evict the pod (if it still has uid), retrying while a
// PodDisruptionBudget refuses (429), up to EvictWait.
func (r *PodRestarter) evict(ctx context.Context, uid UID, log io.Writer) error {
	wait, poll := r.EvictWait, r.EvictPoll
	if wait <= 0 {
		wait = defaultEvictWait
	}
	if poll <= 0 {
		poll = defaultEvictPoll
	}
	deadline := time.Now().Add(wait)
	said := false
	for {
		err := r.Client.EvictPod(ctx, r.Namespace, r.Pod, uid)
		var ae *APIError
		if err == nil || !errors.As(err, &ae) || ae.Code != http.StatusTooManyRequests {
			if err != nil {
				return fmt.Errorf("evict pod %s: %w", r.Pod, err)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("evict pod %s: its PodDisruptionBudget refused for %v (%s); nothing was deleted: "+
				"see kubectl -n %s get poddisruptionbudgets, then run again with --resume", r.Pod, wait, ae.Message, r.Namespace)
		}
		if !said {
			fmt.Fprintf(log, "pod %s/%s: eviction refused by its PodDisruptionBudget (%s); trying again for up to %v\n", r.Namespace, r.Pod, ae.Message, wait)
			said = true
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("evict pod %s: %w", r.Pod, ctx.Err())
		case <-t.C:
		}
	}
}
