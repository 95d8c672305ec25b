package runbook

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/rollout"
	"github.com/reauth/reauth/rollout/execmethod"
)

// Refusals that chain (#31 item 6): the Hazelcast refusal suggests the full strategy; for nodes
// with one restart command it says at once that the full strategy needs stop and start, with
// the YAML to write (derived from their systemctl restart command), so that the next preflight
// does not refuse the suggestion in turn.
func TestHazelcastRefusalGivesTheWholeFix(t *testing.T) {
	install := t.TempDir()
	script := filepath.Join(install, "bin", "setenv.sh")
	if err := os.MkdirAll(filepath.Dir(script), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte("JAVA_OPTS=\"-Dhazelcast.http.sessions=replicated\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	u := bitbucketUnit(t, install, "")
	u.rplan.Nodes[0].Restarter = &execmethod.Restarter{Command: "sudo systemctl restart bitbucket"}
	err := u.checkClusterSessions(context.Background())
	h := reauth.HintOf(err)
	for _, want := range []string{"--restart-strategy full", "The full strategy needs separate stop and start commands",
		"    - name: node1\n      restart:\n        exec:\n", `# instead of command: "sudo systemctl restart bitbucket"`,
		`stop: "sudo systemctl stop bitbucket"`, `start: "sudo systemctl start bitbucket"`} {
		if !strings.Contains(h, want) {
			t.Fatalf("the hint lacks %q:\n%s", want, h)
		}
	}
	// Nodes that already have stop and start: the hint stays short.
	u.rplan.Nodes[0].Restarter = &execmethod.Restarter{StopCmd: "a", StartCmd: "b"}
	if h := reauth.HintOf(u.checkClusterSessions(context.Background())); strings.Contains(h, "stop:") {
		t.Fatalf("YAML for a node that has stop and start:\n%s", h)
	}
}

// A product's own preflight list goes under its name: the header is said once.
func TestPreflightHeaderOnce(t *testing.T) {
	f := newFakeJob(t)
	f.rollout.PreflightFunc = func(context.Context, rollout.Plan, rollout.Options) error {
		return &reauth.Error{Code: reauth.ExitRefused, Err: errorString(preflightHeader + "\n  n1: not RUNNING\n  n2: not RUNNING")}
	}
	_, err := f.run(f.options())
	if err == nil || strings.Count(err.Error(), "nothing was changed") != 1 || !strings.Contains(err.Error(), "jira: n1: not RUNNING\n    n2: not RUNNING") {
		t.Fatalf("%v", err)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

// The plan says who the proof logs in as, from where, that it shows in the product's logs, and
// how to leave the sampled users out (#31 item 13).
func TestPlanSaysWhoTheProofLogsInAs(t *testing.T) {
	for _, sample := range []int{0, -1} {
		f := newFakeJob(t)
		o := f.options()
		o.DryRun, o.ProofSample = true, sample
		if _, err := f.run(o); err != nil {
			t.Fatal(err)
		}
		host, _ := os.Hostname()
		out := f.out.String()
		want := "these replays are real logins on every node from this host (" + host + ") as alice (the proof token)"
		if !strings.Contains(out, want) || !strings.Contains(out, "audit and access logs") {
			t.Fatalf("sample %d: no %q in\n%s", sample, want, out)
		}
		if sampled := strings.Contains(out, "up to 20 sampled user(s)") && strings.Contains(out, "--proof-sample 0 leaves the sampled users out"); sampled != (sample == 0) {
			t.Fatalf("sample %d: the sampled users are said %v:\n%s", sample, sampled, out)
		}
	}
}
