package rollout

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/reauth/reauth"
)

// The journal cannot be written after node2 was restarted (its directory's entry was replaced,
// as a full or read-only disk would make it fail): the run stops with exit 3, not 1, since node1
// and node2 were restarted. The journal still says node2 was being restarted: --resume says it
// cannot know whether that restart completed and restarts it again, or, when the node's identity
// changed since (a pod's UID), knows it did and skips it.
func TestJournalWriteFailureMidRollout(t *testing.T) {
	for _, identityChanged := range []bool{false, true} {
		plan, nodes, rs := cluster(t, "", "", "")
		opts := fastOpts(t)
		var saved []byte
		rs[1].onStart = func() {
			saved, _ = os.ReadFile(opts.JournalPath) // written ahead: node2 "restarting"
			os.Remove(opts.JournalPath)
			os.MkdirAll(filepath.Join(opts.JournalPath, "x"), 0o700) // the rename over it fails
		}
		res, err := Run(context.Background(), plan, opts)
		if reauth.CodeOf(err) != reauth.ExitPartial || !strings.Contains(err.Error(), "write restart journal") ||
			!strings.Contains(err.Error(), "cannot know") || res.Nodes[1].Status != StatusRestarted || res.Nodes[2].Status != StatusUntouched {
			t.Fatalf("journal write failure: %v (code %d), %+v", err, reauth.CodeOf(err), res.Nodes)
		}
		if !strings.Contains(string(saved), `"node2": "restarting"`) {
			t.Fatalf("the journal was not written ahead of node2's restart: %s", saved)
		}
		os.RemoveAll(opts.JournalPath)
		if err := os.WriteFile(opts.JournalPath, saved, 0o600); err != nil {
			t.Fatal(err)
		}
		if identityChanged {
			nodes[1].mu.Lock()
			nodes[1].id++
			nodes[1].mu.Unlock()
		}
		var (
			mu        sync.Mutex
			restarted []string
			warned    []string
		)
		for i, r := range rs {
			r.onStart = func() { mu.Lock(); restarted = append(restarted, plan.Nodes[i].Name); mu.Unlock() }
		}
		opts.Resume = true
		opts.Events = func(e Event) {
			if e.Phase == PhaseWarning || e.Phase == PhaseSkipped {
				mu.Lock()
				warned = append(warned, e.Node+": "+e.Message)
				mu.Unlock()
			}
		}
		res, err = Run(context.Background(), plan, opts)
		if err != nil || res.Restarted() != 3 {
			t.Fatalf("resume: %v %+v", err, res.Nodes)
		}
		want, note := "node2,node3", "could not record whether the restart completed"
		if identityChanged {
			want, note = "node3", "identity changed"
		}
		if strings.Join(restarted, ",") != want || !strings.Contains(strings.Join(warned, "\n"), note) {
			t.Fatalf("identity changed %v: resume restarted %v; said %q", identityChanged, restarted, warned)
		}
	}
}
