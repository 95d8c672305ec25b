package rollout

import (
	"encoding/json"
	"os"
	"time"
)

// Exposure is the plan's estimate of the exposure window: how long after the purge committed the
// last node still running from before it (and so honouring its old in-memory sessions) is taken
// down. A rolling restart of W waves takes the last wave down after W-1 whole waves; each wave
// lasts as long as its slowest node's start-up plus the stable window.
type Exposure struct {
	Waves     [][]int       // the planned waves: indices into Plan.Nodes, every node up
	Estimate  time.Duration // until the last wave goes down
	Known     bool          // every start-up of the estimate was measured by an earlier run
	PerWave   time.Duration // the slowest wave's length, as estimated
	WaveSize  int
	MinServed int // min_serving
}

// PlanWaves is the waves Run takes when every node is RUNNING: the nodes in order, k at a time.
func PlanWaves(plan Plan, o Options) [][]int {
	k := o.MaxUnavailable.Of(len(plan.Nodes))
	if o.Strategy == StrategyFull {
		k = len(plan.Nodes)
	}
	var waves [][]int
	for i := range plan.Nodes {
		if i%k == 0 {
			waves = append(waves, nil)
		}
		waves[len(waves)-1] = append(waves[len(waves)-1], i)
	}
	return waves
}

// EstimateExposure estimates the exposure window of plan from each node's last start-up, as
// the journal at o.JournalPath recorded it (a earlier run's), else from the start timeout: an
// upper bound, Known false.
func EstimateExposure(plan Plan, o Options) Exposure {
	o = o.withDefaults()
	last := lastStartups(o.JournalPath)
	e := Exposure{Waves: PlanWaves(plan, o), Known: true, WaveSize: o.MaxUnavailable.Of(len(plan.Nodes)),
		MinServed: o.minServing(len(plan.Nodes))}
	for w, wave := range e.Waves {
		var longest time.Duration
		for _, i := range wave {
			d, ok := last[plan.Nodes[i].Name]
			if !ok {
				d, e.Known = o.StartTimeout, false
			}
			longest = max(longest, d)
		}
		longest += o.StableWindow
		e.PerWave = max(e.PerWave, longest)
		if w < len(e.Waves)-1 {
			e.Estimate += longest
		}
	}
	return e
}

// lastStartups reads the start-up times a journal recorded (none when there is no journal).
func lastStartups(path string) map[string]time.Duration {
	out := map[string]time.Duration{}
	if path == "" {
		return out
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	var doc journalDoc
	if json.Unmarshal(b, &doc) != nil {
		return out
	}
	for name, ms := range doc.StartupMS {
		out[name] = time.Duration(ms) * time.Millisecond
	}
	return out
}
