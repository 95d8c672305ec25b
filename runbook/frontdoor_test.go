package runbook

import (
	"context"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/verify"
)

// withBaseURL gives the fake job's Jira a base_url (its load balancer).
func withBaseURL(t *testing.T, f *fakeJob) {
	t.Helper()
	b, err := os.ReadFile(f.inv.Path)
	if err != nil {
		t.Fatal(err)
	}
	y := strings.Replace(string(b), "    proof_user: alice\n", "    proof_user: alice\n    base_url: https://127.0.0.1:9/lb/\n", 1)
	if err := os.WriteFile(f.inv.Path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	if f.inv, err = inventory.Load(f.inv.Path); err != nil {
		t.Fatal(err)
	}
}

// TestFakeProofReplaysAtTheFrontDoor: with base_url, the plan says the proof replays there, and
// every proof cookie is replayed there before and after, beside the nodes; the front door's
// result is its own (not a node's) and the run is verified when it rejects them.
func TestFakeProofReplaysAtTheFrontDoor(t *testing.T) {
	f := newFakeJob(t)
	withBaseURL(t, f)
	var atDoor atomic.Int32
	replay := f.prober.ReplayFunc
	f.prober.ReplayFunc = func(ctx context.Context, node, base string, c *http.Cookie) verify.Outcome {
		if base == "https://127.0.0.1:9/lb" && node == FrontDoor {
			atDoor.Add(1)
		}
		return replay(ctx, node, base, c)
	}
	rep, err := f.run(f.options())
	if err != nil {
		t.Fatalf("run: %v\n%s", err, f.err.String())
	}
	if !strings.Contains(f.out.String(), "at the front door https://127.0.0.1:9/lb (base_url)") {
		t.Errorf("the plan does not say the proof replays at the front door:\n%s", f.out.String())
	}
	pr := rep.Products[0].Verify.Proof
	if atDoor.Load() == 0 || pr.FrontDoor == nil || pr.FrontDoor.AcceptedBefore == 0 || pr.FrontDoor.RejectedAfter != pr.FrontDoor.AcceptedBefore {
		t.Errorf("front door: %d replay(s), proof %+v", atDoor.Load(), pr.FrontDoor)
	}
	for _, n := range pr.Nodes {
		if n.Node == FrontDoor {
			t.Errorf("the front door is listed as a node: %+v", pr.Nodes)
		}
	}
	if !rep.Verified {
		t.Errorf("not verified: %+v", pr)
	}
}

// TestFakeFrontDoorStillAcceptingIsNotVerified: a load balancer that still lets an old cookie
// in (a cache, a pinned session) fails the run's proof although every node rejects it.
func TestFakeFrontDoorStillAcceptingIsNotVerified(t *testing.T) {
	f := newFakeJob(t)
	withBaseURL(t, f)
	f.stillAccepts = FrontDoor
	rep, _ := f.run(f.options())
	pr := rep.Products[0].Verify.Proof
	if rep.Verified || len(pr.AcceptedAfter) == 0 || pr.AcceptedAfter[0].Node != FrontDoor {
		t.Errorf("verified %v, accepted after %+v", rep.Verified, pr.AcceptedAfter)
	}
}
