package runbook

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth/rollout"
)

// The measured window runs from the purge's commit to the last node seen down; a node restarted
// in an earlier run (skipped) does not hide it, a node not restarted does.
func TestMeasureExposure(t *testing.T) {
	purged := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(s float64) *time.Time { x := purged.Add(time.Duration(s * float64(time.Second))); return &x }
	u := &unit{journal: &Journal{PurgedAt: &purged}}
	u.report.Exposure = &ExposureReport{WaveSize: 2, EstimatedS: 20}
	u.measureExposure(rollout.Result{Nodes: []rollout.NodeResult{
		{Name: "n1", Status: rollout.StatusRestarted, Wave: 1, DownAt: at(0.5)},
		{Name: "n2", Status: rollout.StatusRestarted, Wave: 1, DownAt: at(0.7)},
		{Name: "n3", Status: rollout.StatusRestarted, Wave: 2, DownAt: at(11.4)},
		{Name: "n0", Status: rollout.StatusSkipped},
	}})
	x := u.report.Exposure
	if x.DeadAfterS == nil || *x.DeadAfterS != 11.4 || len(x.Nodes) != 3 || x.Nodes[2].AfterS != 11.4 {
		t.Fatalf("exposure = %+v", x)
	}
	var b bytes.Buffer
	printExposure(&b, x)
	if got := b.String(); !strings.Contains(got, "old sessions dead everywhere 11.4s after the purge committed (2 wave(s) of up to 2; estimated 20s)") {
		t.Errorf("summary line = %q", got)
	}
	u.report.Exposure = &ExposureReport{}
	u.measureExposure(rollout.Result{Nodes: []rollout.NodeResult{
		{Name: "n1", Status: rollout.StatusRestarted, Wave: 1, DownAt: at(0.5)},
		{Name: "n2", Status: rollout.StatusFailed, Wave: 1},
	}})
	if u.report.Exposure.DeadAfterS != nil {
		t.Errorf("a node that never went down still honours old sessions: no figure, got %v", *u.report.Exposure.DeadAfterS)
	}
}
