package runbook

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/reauth/reauth/rollout"
)

// ExposureReport is the exposure window of a product's restart: from the purge's commit (no old
// remember-me token left) to the moment the last node running from before it was seen down (its
// old in-memory sessions gone). The JSON names are part of the --json contract.
type ExposureReport struct {
	MaxUnavailable string `json:"max_unavailable"` // as given: "1", "2", "34%"
	WaveSize       int    `json:"wave_size"`       // nodes per wave, for this product's node count
	MinServing     int    `json:"min_serving"`
	Waves          int    `json:"waves"` // planned; measured waves are in nodes[].wave
	// EstimatedS is the plan's estimate of old_sessions_dead_after_s; EstimateMeasured says it
	// comes from the nodes' start-ups of the last run, else from the start timeout (an upper bound).
	EstimatedS       float64          `json:"estimated_s"`
	EstimateMeasured bool             `json:"estimate_from_last_startups"`
	PurgeCommittedAt *time.Time       `json:"purge_committed_at,omitempty"`
	Nodes            []ExposureNode   `json:"nodes,omitempty"`
	DeadAfterS       *float64         `json:"old_sessions_dead_after_s,omitempty"`
	plan             rollout.Exposure // for the plan's printout
}

// ExposureNode is when one node's old sessions stopped working: its restart seen down.
type ExposureNode struct {
	Name   string    `json:"name"`
	Wave   int       `json:"wave"`
	DownAt time.Time `json:"down_at"`
	// AfterS is DownAt's distance from the purge's commit (negative: down before it committed,
	// as in a full stop's resume).
	AfterS float64 `json:"after_s"`
}

// planExposure estimates the window before the restart (restart mode only).
func (u *unit) planExposure() {
	if u.ropts.Strategy == rollout.StrategyFull {
		return // every node is stopped at once: there is no window of old sessions to speak of
	}
	e := rollout.EstimateExposure(u.rplan, u.ropts)
	u.report.Exposure = &ExposureReport{MaxUnavailable: u.ropts.MaxUnavailable.String(), WaveSize: e.WaveSize,
		MinServing: e.MinServed, Waves: len(e.Waves), EstimatedS: seconds(e.Estimate), EstimateMeasured: e.Known, plan: e}
}

// measureExposure fills in, after the restart, when each node went down relative to the purge's
// commit and, when every node is restarted, when old sessions were dead everywhere.
func (u *unit) measureExposure(res rollout.Result) {
	x := u.report.Exposure
	if x == nil {
		return
	}
	x.PurgeCommittedAt = u.journal.PurgedAt
	all := res.Restarted() == len(res.Nodes) && len(res.Nodes) > 0
	var last time.Time
	for _, n := range res.Nodes {
		if n.DownAt == nil {
			all = all && n.Status == rollout.StatusSkipped // went down in an earlier run
			continue
		}
		en := ExposureNode{Name: n.Name, Wave: n.Wave, DownAt: n.DownAt.UTC()}
		if x.PurgeCommittedAt != nil {
			en.AfterS = seconds(n.DownAt.Sub(*x.PurgeCommittedAt))
		}
		x.Nodes = append(x.Nodes, en)
		if n.DownAt.After(last) {
			last = *n.DownAt
		}
	}
	if all && x.PurgeCommittedAt != nil && !last.IsZero() {
		d := seconds(last.Sub(*x.PurgeCommittedAt))
		x.DeadAfterS = &d
	}
}

func seconds(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }

// printExposurePlan is the plan's line on waves and the estimated window.
func printExposurePlan(w io.Writer, x *ExposureReport) {
	if x == nil {
		return
	}
	how := "from the start timeout: an upper bound"
	if x.EstimateMeasured {
		how = "from the nodes' start-ups in the last run"
	}
	if x.WaveSize > 1 {
		var waves []string
		for _, wave := range x.plan.Waves {
			waves = append(waves, fmt.Sprintf("%d", len(wave)))
		}
		fmt.Fprintf(w, "   waves      %d wave(s) of up to %d node(s) (max unavailable %s: %s), never fewer than %d RUNNING (min_serving)\n",
			x.Waves, x.WaveSize, x.MaxUnavailable, strings.Join(waves, "+"), x.MinServing)
	}
	fmt.Fprintf(w, "   exposure   old sessions dead everywhere about %.0fs after the purge (%d wave(s); %s)\n", x.EstimatedS, x.Waves, how)
}

// printExposure is the report's summary line of the measured window.
func printExposure(w io.Writer, x *ExposureReport) {
	if x == nil || x.DeadAfterS == nil {
		return
	}
	waves := 0
	for _, n := range x.Nodes {
		waves = max(waves, n.Wave)
	}
	fmt.Fprintf(w, "   exposure old sessions dead everywhere %.1fs after the purge committed (%d wave(s) of up to %d; estimated %.0fs)\n",
		*x.DeadAfterS, waves, x.WaveSize, x.EstimatedS)
}
