package purge

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth/internal/testenv"
)

var baselineFlag = flag.String("baseline", "", "a reauth binary built from an earlier commit: compare lock times, purge times and "+
	"login latency with it in the same run, instead of the steps against the manual procedure")

var restFlag = flag.Float64("rest", 0, "with -baseline, run this tree's binary with --rest R (the baseline binary without): what resting costs and buys")

var floorDutyFlag = flag.String("floor-duty", "", "with -baseline, also run the database's floor (one client, 5000-id autocommit DELETEs, "+
	"no backup) with the login loop at these duty cycles, e.g. 1,0.5,0.25: the login p99 the database itself causes, and what resting costs")

// idleLoginTime is how long the login loop runs on the idle database for the reference p99.
const idleLoginTime = 5 * time.Second

// lockResult is one -baseline run: the earlier binary ("base") and this one ("tool"), on freshly
// reloaded rows each, quiet and with the login loop, and the login loop alone on the idle database.
type lockResult struct {
	Engine string `json:"engine"`
	Rows   int    `json:"rows"`
	// The login loop's p99 with nothing else running: the reference.
	LoginP99MSIdle float64 `json:"login_p99_ms_idle"`
	LoginsIdle     int     `json:"logins_idle"`
	// Quiet.
	BaseS           float64 `json:"base_s"`
	ToolS           float64 `json:"tool_s"`
	RatioTime       float64 `json:"ratio_time"` // tool_s / base_s: the cost of the new batch sizing (target <= 1.10)
	BaseMaxBatchMS  float64 `json:"base_max_batch_ms"`
	ToolMaxBatchMS  float64 `json:"tool_max_batch_ms"` // target <= 100
	BaseBatches     int     `json:"base_batches"`
	ToolBatches     int     `json:"tool_batches"`
	BaseLoginsS     float64 `json:"base_logins_s"`
	ToolLoginsS     float64 `json:"tool_logins_s"`
	RatioTimeLogins float64 `json:"ratio_time_logins"`
	// With the login loop.
	BaseMaxBatchMSLogins float64 `json:"base_max_batch_ms_logins"`
	ToolMaxBatchMSLogins float64 `json:"tool_max_batch_ms_logins"` // target <= 100
	BaseBatchesLogins    int     `json:"base_batches_logins"`
	ToolBatchesLogins    int     `json:"tool_batches_logins"`
	LoginP99MSBase       float64 `json:"login_p99_ms_base"`
	LoginP99MSTool       float64 `json:"login_p99_ms_tool"`
	RatioLoginP99Base    float64 `json:"ratio_login_p99_base_idle"`
	RatioLoginP99Tool    float64 `json:"ratio_login_p99_tool_idle"` // target <= 1.5
	LoginMaxMSTool       float64 `json:"login_max_ms_tool"`
	LoginMaxMSBase       float64 `json:"login_max_ms_base"`
	// The database's floor with the login loop, at each -floor-duty: no reauth, no backup,
	// one client. Its login p99 is what the database's own delete work costs the logins.
	Floor []floorPoint `json:"floor_logins,omitempty"`
	// Unsettled counts the steps that began on a server still busy after 30 s (other tenants).
	Unsettled int `json:"unsettled"`
}

// floorPoint is one paced floor run with the login loop.
type floorPoint struct {
	Duty              float64 `json:"duty"`
	S                 float64 `json:"s"`
	RatioTool         float64 `json:"ratio_tool_logins"` // s / tool_logins_s
	LoginP99MS        float64 `json:"login_p99_ms"`
	RatioLoginP99Idle float64 `json:"ratio_login_p99_idle"`
	MaxStatementMS    float64 `json:"max_statement_ms"` // the longest 5000-row DELETE
}

// floorDuties parses -floor-duty.
func floorDuties(b *testing.B) []float64 {
	var out []float64
	for _, f := range strings.Split(*floorDutyFlag, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		d, err := strconv.ParseFloat(f, 64)
		if err != nil || d <= 0 || d > 1 {
			b.Fatalf("-floor-duty %q: give duty cycles above 0 and at most 1, e.g. 1,0.5,0.25", *floorDutyFlag)
		}
		out = append(out, d)
	}
	return out
}

// runLock measures one -baseline run: the idle login loop, then the earlier binary and this one
// on the same freshly reloaded rows, quiet and with the login loop (alternating which goes first
// between repeats, so that neither always meets a warmer server).
func runLock(b *testing.B, e engine, db *testenv.DB, bin, base string, rows, rep int) lockResult {
	ctx, cancel := context.WithTimeout(b.Context(), 45*time.Minute)
	defer cancel()
	dir := b.TempDir()
	r := lockResult{Engine: e.name, Rows: rows}
	must := fatalOn(b)
	reload := reloader(ctx, b, e, db, rows, nil, &r.Unsettled)
	withLogins := loginLoop(ctx, b, e, db)
	purge := func(binary, name string) (purgeOut, time.Duration) {
		b.Helper()
		var extra []string
		if binary == bin && *restFlag > 0 {
			extra = []string{"--rest", strconv.FormatFloat(*restFlag, 'g', -1, 64)}
		}
		out, _, d, _, err := purgeAll(ctx, binary, db, filepath.Join(dir, name+".jsonl.gz"), rows, extra...)
		must(err)
		return out, d
	}

	reload()
	st := withLogins(func() { time.Sleep(idleLoginTime) })
	r.LoginP99MSIdle, r.LoginsIdle = ms(st.P99), st.N

	order := []string{base, bin}
	if rep%2 == 1 {
		order = []string{bin, base}
	}
	for _, x := range order {
		name := "tool"
		if x == base {
			name = "base"
		}
		reload()
		out, d := purge(x, name)
		if x == base {
			r.BaseS, r.BaseMaxBatchMS, r.BaseBatches = round(d.Seconds(), 3), round(out.MaxBatchMS, 1), out.Batches
		} else {
			r.ToolS, r.ToolMaxBatchMS, r.ToolBatches = round(d.Seconds(), 3), round(out.MaxBatchMS, 1), out.Batches
		}
	}
	for _, x := range order {
		name := "tool-logins"
		if x == base {
			name = "base-logins"
		}
		reload()
		var out purgeOut
		var d time.Duration
		st := withLogins(func() { out, d = purge(x, name) })
		if x == base {
			r.BaseLoginsS, r.BaseMaxBatchMSLogins, r.BaseBatchesLogins = round(d.Seconds(), 3), round(out.MaxBatchMS, 1), out.Batches
			r.LoginP99MSBase, r.LoginMaxMSBase = ms(st.P99), ms(st.Max)
		} else {
			r.ToolLoginsS, r.ToolMaxBatchMSLogins, r.ToolBatchesLogins = round(d.Seconds(), 3), round(out.MaxBatchMS, 1), out.Batches
			r.LoginP99MSTool, r.LoginMaxMSTool = ms(st.P99), ms(st.Max)
		}
	}
	for _, duty := range floorDuties(b) {
		reload()
		var d, longest time.Duration
		var err error
		st := withLogins(func() { d, longest, err = pacedFloorDelete(ctx, db.SQL, rows, duty) })
		must(err)
		fp := floorPoint{Duty: duty, S: round(d.Seconds(), 3), LoginP99MS: ms(st.P99), MaxStatementMS: ms(longest)}
		if r.ToolLoginsS > 0 {
			fp.RatioTool = round(d.Seconds()/r.ToolLoginsS, 3)
		}
		if r.LoginP99MSIdle > 0 {
			fp.RatioLoginP99Idle = round(fp.LoginP99MS/r.LoginP99MSIdle, 3)
		}
		r.Floor = append(r.Floor, fp)
	}
	r.RatioTime = round(r.ToolS/r.BaseS, 3)
	r.RatioTimeLogins = round(r.ToolLoginsS/r.BaseLoginsS, 3)
	if r.LoginP99MSIdle > 0 {
		r.RatioLoginP99Base = round(r.LoginP99MSBase/r.LoginP99MSIdle, 3)
		r.RatioLoginP99Tool = round(r.LoginP99MSTool/r.LoginP99MSIdle, 3)
	}
	return r
}

// lockSummary is the medians of several -baseline runs (the worst for the longest batches).
func lockSummary(all []lockResult) map[string]any {
	med := func(f func(lockResult) float64) float64 { return medianOf(all, f) }
	worst := func(f func(lockResult) float64) float64 { return worstOf(all, f) }
	return map[string]any{"engine": all[0].Engine, "rows": all[0].Rows, "runs": len(all),
		"median_ratio_time":                med(func(r lockResult) float64 { return r.RatioTime }),
		"median_ratio_time_logins":         med(func(r lockResult) float64 { return r.RatioTimeLogins }),
		"median_ratio_login_p99_tool_idle": med(func(r lockResult) float64 { return r.RatioLoginP99Tool }),
		"median_ratio_login_p99_base_idle": med(func(r lockResult) float64 { return r.RatioLoginP99Base }),
		"median_login_p99_ms_idle":         med(func(r lockResult) float64 { return r.LoginP99MSIdle }),
		"worst_tool_max_batch_ms":          worst(func(r lockResult) float64 { return max(r.ToolMaxBatchMS, r.ToolMaxBatchMSLogins) }),
		"worst_base_max_batch_ms":          worst(func(r lockResult) float64 { return max(r.BaseMaxBatchMS, r.BaseMaxBatchMSLogins) }),
		"median_tool_max_batch_ms":         med(func(r lockResult) float64 { return max(r.ToolMaxBatchMS, r.ToolMaxBatchMSLogins) }),
		"median_base_max_batch_ms":         med(func(r lockResult) float64 { return max(r.BaseMaxBatchMS, r.BaseMaxBatchMSLogins) }),
	}
}

func lockLabel(r lockResult) string {
	floor := ""
	for _, f := range r.Floor {
		floor += fmt.Sprintf("; floor at duty %.2f: %.2fx the tool's time, login p99 %.2fx, longest statement %.0f ms", f.Duty, f.RatioTool, f.RatioLoginP99Idle, f.MaxStatementMS)
	}
	return fmt.Sprintf("%s rows=%d: time %.2fx (logins %.2fx), longest batch %.0f→%.0f ms (logins %.0f→%.0f ms), login p99 idle %.1f ms, base %.2fx, tool %.2fx",
		r.Engine, r.Rows, r.RatioTime, r.RatioTimeLogins, r.BaseMaxBatchMS, r.ToolMaxBatchMS, r.BaseMaxBatchMSLogins, r.ToolMaxBatchMSLogins,
		r.LoginP99MSIdle, r.RatioLoginP99Base, r.RatioLoginP99Tool) + floor
}
