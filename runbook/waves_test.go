package runbook_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/runbook"
)

// A 4-node Jira in waves of 2: the plan names the waves and estimates the exposure window, the
// run restarts node1+node2 then node3+node4, and --json says when each node went down after the
// purge committed and when old sessions were dead everywhere; the next plan estimates from the
// start-ups it measured.
func TestRunInWavesMeasuresTheExposureWindow(t *testing.T) {
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 4, Users: 4, Version: "9.10.0"})
	cfg := writeInventory(t, t.TempDir(), product{c: c})
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--dry-run", "--max-unavailable", "50%")
	if code != 0 || !strings.Contains(stdout, "in waves of up to 2") || !strings.Contains(stdout, "2 wave(s) of up to 2 node(s) (max unavailable 50%: 2+2), never fewer than 1 RUNNING") ||
		!strings.Contains(stdout, "from the start timeout: an upper bound") {
		t.Fatalf("dry run exited %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json", "--max-unavailable", "2")
	if code != 0 {
		t.Fatalf("run exited %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "wave 1: node1, node2") || !strings.Contains(stderr, "wave 2: node3, node4") {
		t.Errorf("progress does not show the waves:\n%s", stderr)
	}
	var r struct {
		Products []struct {
			Exposure runbook.ExposureReport `json:"exposure"`
		} `json:"products"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil || len(r.Products) != 1 {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	x := r.Products[0].Exposure
	if x.WaveSize != 2 || x.Waves != 2 || x.MinServing != 1 || x.PurgeCommittedAt == nil || x.DeadAfterS == nil || len(x.Nodes) != 4 {
		t.Fatalf("exposure = %+v", x)
	}
	waves := map[string]int{}
	var lastFirstWave float64
	for _, n := range x.Nodes {
		waves[n.Name] = n.Wave
		if n.AfterS < 0 || n.AfterS > *x.DeadAfterS {
			t.Errorf("%s went down %.3fs after the purge, outside 0..%.3f", n.Name, n.AfterS, *x.DeadAfterS)
		}
		if n.Wave == 1 {
			lastFirstWave = max(lastFirstWave, n.AfterS)
		}
	}
	if waves["node1"] != 1 || waves["node2"] != 1 || waves["node3"] != 2 || waves["node4"] != 2 {
		t.Errorf("waves = %v", waves)
	}
	// The second wave goes down only after the first is back: each start-up takes 0.6 s.
	if *x.DeadAfterS-lastFirstWave < sandboxtest.RestartDelay.Seconds() {
		t.Errorf("old sessions dead after %.3fs, first wave down by %.3fs: the second wave did not wait for the first", *x.DeadAfterS, lastFirstWave)
	}
	stdout, stderr, code = reauthCmd(t, nil, "run", "--config", cfg, "--dry-run", "--max-unavailable", "2")
	if code != 0 || !strings.Contains(stdout, "from the nodes' start-ups in the last run") {
		t.Fatalf("second dry run exited %d\n%s\n%s", code, stdout, stderr)
	}
}
