package runbook

import (
	"fmt"
	"net/url"
	"path/filepath"
	"sort"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/audit"
	"github.com/reauth/reauth/rollout"
	"github.com/reauth/reauth/verify"
)

// The audit lines below exist so that a run's evidence report (package report) can be rebuilt
// from the audit log alone: what was planned, every node's phases with their real times, the
// cookies replayed before and after, and how the run ended. Names, counts and fingerprints only:
// never a token, password or cookie value.

// Audit steps written for the report, beside the per-phase ones (lock, cutoff, purge, restart,
// api, verify, failed).
const (
	StepRun         = "run"          // outcome "started": the plan of the whole run; then the end (outcome: done/failed)
	StepPlan        = "plan"         // one per product: database, table, mode, nodes, top users
	StepNode        = "node"         // one per node phase (outcome: the rollout phase)
	StepPurgeStart  = "purge_start"  // the purge begins
	StepAPIStart    = "api_start"    // the session API calls begin
	StepVerifyStart = "verify_start" // the checks begin
	StepReplay      = "replay"       // outcome "before" or "after": every cookie replayed, per node
	StepAllDown     = "all_down"     // a full stop saw every node down (restart strategy full)
	StepWave        = "wave"         // a rolling restart's wave begins (--max-unavailable > 1); message names its nodes
)

// topUsersLogged is how many users (names and counts, no values) the plan line carries.
const topUsersLogged = 10

// logRunStart records what the run is about to do, for every product.
func logRunStart(alog *audit.Log, o Options, units []*unit, path string, rep *Report) {
	products := make([]string, 0, len(units))
	for _, u := range units {
		products = append(products, u.name)
	}
	fields := incidentFields(o, rep)
	fields["products"], fields["resume"], fields["mode"], fields["audit_log"] = products, o.Resume, o.Mode, path
	if o.CookiesFile != "" {
		fields["cookies_file"] = filepath.Base(o.CookiesFile)
	}
	warn(o, alog.Step("", StepRun, "started", fields))
	for _, u := range units {
		u.audit = alog
		u.logPlan()
	}
}

func (u *unit) logPlan() {
	nodes := make([]map[string]any, 0, len(u.rplan.Nodes))
	for _, n := range u.rplan.Nodes {
		nodes = append(nodes, map[string]any{"name": n.Name, "url": redactURL(n.URL), "method": n.Restarter.Method()})
	}
	top := u.purge.PerUser
	if len(top) > topUsersLogged {
		top = top[:topUsersLogged]
	}
	users := make([]map[string]any, 0, len(top))
	for _, pu := range top {
		users = append(users, map[string]any{"user": pu.User, "count": pu.Count})
	}
	fields := map[string]any{
		"name": u.prod.Name, "status": u.report.Status, "database": u.report.Database, "table": u.report.Table,
		"mode": u.report.Mode.Mode, "why": u.report.Mode.Why, "api_users": u.report.Mode.Users,
		"to_delete": u.purge.ToDelete, "to_keep": u.purge.ToKeep, "per_user_total": len(u.purge.PerUser),
		"top_users": users, "excluded_users": u.inv.ExcludeUsers, "nodes": nodes, "skipped_nodes": u.report.SkippedNodes,
		"restore_target": u.restoreTarget(), "warnings": u.report.Warnings,
		"cookies_given": len(u.jar), "restart_strategy": u.report.RestartStrategy,
	}
	if len(u.report.SessionFiles) > 0 {
		fields["session_files"] = u.report.SessionFiles
	}
	if u.report.Sessions != "" {
		fields["sessions"] = u.report.Sessions
	}
	if u.inv.Canary != nil {
		fields["canary"] = u.inv.Canary.User
	}
	if u.resumed {
		fields["resumed_run"], fields["resumed_phase"] = u.journal.RunID, string(u.journal.Phase)
	}
	u.step(StepPlan, "ok", fields)
}

// restoreTarget is the TARGET part of the `reauth restore` command that undoes the purge.
func (u *unit) restoreTarget() string {
	s := "--product " + string(u.prod.ID)
	if u.inv.Database == nil {
		return s + " --home " + reauth.ShellQuote(u.file().Resolve(u.inv.Home))
	}
	s += " --jdbc-url <database.jdbc_url of the inventory>"
	if u.inv.Database.User != "" {
		s += " --db-user " + reauth.ShellQuote(u.inv.Database.User)
	}
	return s
}

// logRunEnd records how the run ended: the report's outcome line comes from it.
func logRunEnd(alog *audit.Log, o Options, rep *Report, runErr error) {
	outcome, cookies := "done", 0
	if runErr != nil {
		outcome = "failed"
	}
	for _, p := range rep.Products {
		cookies += p.Verify.CookiesChecked
	}
	warn(o, alog.Step("", StepRun, outcome, map[string]any{
		"exit_code": int(reauth.CodeOf(runErr)), "error": rep.Error, "hint": reauth.HintOf(runErr),
		"verified": rep.Verified, "deleted": rep.Deleted, "nodes_restarted": rep.NodesRestarted,
		"sessions_before": rep.SessionsBefore, "sessions_valid_after": rep.SessionsValidAfter,
		"cookies_checked": cookies, "not_covered": rep.NotCovered,
	}))
}

// logNodeEvent records one phase of a node's restart with its real time. Hook commands are not
// recorded (a drain command line may carry a credential); failure messages are.
func (u *unit) logNodeEvent(e rollout.Event) {
	if u.audit == nil || e.Phase == rollout.PhaseWarning {
		return
	}
	switch e.Phase { // the cluster's moments, not a node's
	case rollout.PhaseAllDown:
		u.step(StepAllDown, "ok", map[string]any{"message": e.Message})
		return
	case rollout.PhaseWave:
		u.step(StepWave, "ok", map[string]any{"message": e.Message})
		return
	}
	fields := map[string]any{"node": e.Node, "state": e.State, "elapsed_ms": e.Elapsed.Milliseconds()}
	switch e.Phase {
	case rollout.PhaseDown, rollout.PhaseFailed, rollout.PhaseSkipped, rollout.PhaseSessionsCleared:
		fields["message"] = e.Message
	case rollout.PhaseRestarting, rollout.PhaseStopping:
		fields["method"] = e.Message
	}
	u.step(StepNode, string(e.Phase), fields)
}

// logReplay records every cookie replayed, per node: accepted or rejected (fingerprints only).
func (u *unit) logReplay(when string, outs []verify.Outcome) {
	type key struct{ label, cookie string }
	bySource := map[key]map[string]any{}
	var order []key
	for _, o := range outs {
		k := key{o.Label, o.Cookie}
		s, ok := bySource[k]
		if !ok {
			s = map[string]any{"source": o.Label, "cookie": o.Cookie, "accepted": []string{}, "rejected": []string{}, "errors": []string{}}
			bySource[k] = s
			order = append(order, k)
		}
		switch {
		case o.Accepted:
			s["accepted"] = append(s["accepted"].([]string), o.Node)
		case o.Error != "":
			s["errors"] = append(s["errors"].([]string), o.Node)
		default:
			s["rejected"] = append(s["rejected"].([]string), o.Node)
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].label < order[j].label })
	sources := make([]map[string]any, 0, len(order))
	for _, k := range order {
		sources = append(sources, bySource[k])
	}
	u.step(StepReplay, when, map[string]any{"sources": sources})
}

func redactURL(s string) string {
	p, err := url.Parse(s)
	if err != nil || p.User == nil {
		return s
	}
	return p.Redacted()
}

func warn(o Options, err error) {
	if err != nil && o.Err != nil {
		fmt.Fprintf(o.Err, "warning: %v\n", err)
	}
}
