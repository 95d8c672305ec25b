package report

import (
	"fmt"
	"strings"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/audit"
)

// Build makes the report of one run from its audit lines (all with the same run id, in order).
func Build(entries []audit.Entry) (*Report, error) {
	if len(entries) == 0 {
		return nil, fmt.Errorf("no audit line for this run")
	}
	r := &Report{RunID: entries[0].RunID, Operator: entries[0].Operator, Host: entries[0].Host,
		Started: entries[0].Time, Ended: entries[len(entries)-1].Time, ExitCode: -1}
	byID := map[string]*Product{}
	product := func(id string) *Product {
		if p, ok := byID[id]; ok {
			return p
		}
		p := &Product{ID: id, Name: id, TokensBefore: -1, ExcludedTokens: -1, KeptAfterCutoff: -1, TokensRemaining: -1}
		byID[id] = p
		r.Products = append(r.Products, p)
		return p
	}
	last := entries[len(entries)-1]
	r.lastLine = last.Step + " " + last.Outcome
	for _, e := range entries {
		if e.Step == "run" {
			r.runLine(e)
			continue
		}
		if e.Product == "" {
			continue
		}
		product(e.Product).apply(e)
	}
	for _, p := range r.Products {
		p.finish()
		if r.AuditLog != "" {
			// The undo holds each file against this log: refused if its digest is not the recorded
			// one, or if it is a clear file where the run wrote an encrypted one.
			for i := range p.Backups {
				p.Backups[i].Restore += " --audit-log " + reauth.ShellQuote(r.AuditLog)
			}
		}
	}
	r.finish()
	sanitize(r)
	return r, nil
}

func (r *Report) runLine(e audit.Entry) {
	if e.Outcome == "started" {
		r.Started = e.Time
		e.Get("mode", &r.Mode)
		e.Get("resume", &r.Resume)
		e.Get("cookies_file", &r.Cookies)
		e.Get("audit_log", &r.AuditLog)
		e.Get("ticket", &r.Ticket)
		e.Get("incident_reason", &r.IncidentReason)
		e.Get("reauth_version", &r.Version)
		e.Get("inventories", &r.Inventories)
		e.Get("confirmed_by", &r.ConfirmedBy)
		return
	}
	r.Finished, r.Ended = true, e.Time
	e.Get("exit_code", &r.ExitCode)
	e.Get("error", &r.Reason)
	e.Get("hint", &r.Hint)
	e.Get("deleted", &r.Deleted)
	e.Get("nodes_restarted", &r.NodesRestarted)
	e.Get("sessions_before", &r.SessionsBefore)
	e.Get("sessions_valid_after", &r.SessionsValidAfter)
	e.Get("cookies_checked", &r.CookiesChecked)
	e.Get("not_covered", &r.NotCovered)
	var verified bool
	e.Get("verified", &verified)
	r.Outcome = Unproven
	if verified {
		r.Outcome = Verified
	}
}

// apply folds one audit line into the product.
func (p *Product) apply(e audit.Entry) {
	switch e.Step {
	case "plan":
		p.plan(e)
	case "lock":
		p.Lock = e.Time
	case "credentials":
		e.Get("counts", &p.Credentials)
	case "idp":
		p.IdP = &IdP{Family: str(e, "family"), Issuer: str(e, "issuer"), Call: str(e, "call"), Hook: e.Outcome, Error: str(e, "error")}
	case "resume":
		e.Get("phase", &p.ResumedPhase)
	case "cutoff":
		e.Get("cutoff_id", &p.CutoffID)
		var toDelete, toKeep int64
		if e.Get("to_delete", &toDelete) {
			p.ToDelete = toDelete
		}
		if e.Get("to_keep", &toKeep) {
			p.ExcludedTokens, p.TokensBefore = toKeep, toDelete+toKeep
		}
	case "purge_start":
		p.Purge.Start = e.Time
		p.backupStarted(e)
	case "purge":
		p.purgeLine(e)
	case "backup_part":
		if str(e, "table") == "" { // a companion table's part: not one of the token table's backups
			p.backupPart(e)
		}
	case "node":
		n := p.node(str(e, "node"))
		n.Phases = append(n.Phases, Phase{Name: e.Outcome, State: str(e, "state"), Time: e.Time, Message: str(e, "message")})
		if e.Outcome == "restarting" && n.Method == "" {
			n.Method = str(e, "method")
		}
	case "restart":
		n := p.node(str(e, "node"))
		n.Status, n.Error = e.Outcome, str(e, "error")
		e.Get("went_down", &n.WentDown)
		e.Get("ready_after_ms", &n.ReadyAfterMS)
		e.Get("wave", &n.Wave)
	case "wave":
		p.Waves = append(p.Waves, Wave{Time: e.Time, Label: str(e, "message")})
	case "api_start":
		p.api().Start = e.Time
	case "api":
		a := p.api()
		a.End, a.Failed = e.Time, e.Outcome != "ok"
		e.Get("users", &a.Users)
		e.Get("ended", &a.Ended)
		e.Get("not_found", &a.NotFound)
		e.Get("failed", &a.FailedUsers)
		e.Get("requests", &a.Requests)
		e.Get("p99_ms", &a.P99MS)
	case "verify_start":
		p.verify().Start = e.Time
	case "verify":
		p.verifyLine(e)
	case "replay":
		p.replayLine(e)
	case "proof":
		var o ProofObject
		if e.Get("proof", &o) {
			p.ProofObject = &o
		}
	case "failed":
		p.Fail = &Failure{Time: e.Time, Phase: str(e, "phase"), Error: str(e, "error")}
	}
}

func (p *Product) plan(e audit.Entry) {
	e.Get("name", &p.Name)
	e.Get("status", &p.Status)
	e.Get("database", &p.Database)
	e.Get("table", &p.Table)
	e.Get("mode", &p.Mode)
	e.Get("why", &p.Why)
	e.Get("to_delete", &p.ToDelete)
	e.Get("excluded_users", &p.Excluded)
	e.Get("restore_target", &p.RestoreTarget)
	e.Get("warnings", &p.Warnings)
	e.Get("canary", &p.Canary)
	e.Get("cookies_given", &p.CookiesGiven)
	e.Get("resumed_run", &p.ResumedRun)
	e.Get("resumed_phase", &p.ResumedPhase)
	e.Get("per_user_total", &p.UsersWithTokens)
	var top []struct {
		User  string `json:"user"`
		Count int64  `json:"count"`
	}
	e.Get("top_users", &top)
	for _, u := range top {
		p.TopUsers = append(p.TopUsers, UserCount{User: u.User, Count: u.Count})
	}
	var nodes []struct{ Name, URL, Method string }
	e.Get("nodes", &nodes)
	for _, n := range nodes {
		nd := p.node(n.Name)
		nd.URL, nd.Method, nd.Status = n.URL, n.Method, "untouched"
	}
}

func (p *Product) purgeLine(e audit.Entry) {
	if p.Purge.Start.IsZero() {
		p.Purge.Start = e.Time
	}
	p.Purge.End, p.Purge.Failed = e.Time, e.Outcome != "ok"
	var deleted int64
	e.Get("deleted", &deleted)
	p.Deleted += deleted
	if e.Outcome == "ok" {
		p.Purged = true
		e.Get("kept", &p.Kept)
	}
	b := p.backup(str(e, "backup"))
	if b == nil {
		return
	}
	b.SHA256, b.Rows, b.counted, b.CutShort = str(e, "sha256"), deleted, true, e.Outcome != "ok"
	e.Get("encrypted", &b.Encrypted)
	e.Get("recipients", &b.Recipients)
	e.Get("useful_until_note", &b.UsefulUntil)
}

// backup is the product's backup file named path, added when new; nil for no path.
func (p *Product) backup(path string) *Backup {
	if path == "" {
		return nil
	}
	for i := range p.Backups {
		if p.Backups[i].File == path {
			return &p.Backups[i]
		}
	}
	p.Backups = append(p.Backups, Backup{File: path, CutShort: true})
	return &p.Backups[len(p.Backups)-1]
}

// backupStarted lists the file a purge began writing: a run killed before its purge line still
// names it (cut short, rows not known until a resumed run surveys it).
func (p *Product) backupStarted(e audit.Entry) {
	if b := p.backup(str(e, "backup")); b != nil {
		e.Get("encrypted", &b.Encrypted)
		if !b.counted {
			b.Rows = -1
		}
	}
}

// backupPart is a resumed run's survey of a part the stopped run left: its rows and digest. The
// rows join the product's count unless a purge line already counted them.
func (p *Product) backupPart(e audit.Entry) {
	b := p.backup(str(e, "backup"))
	if b == nil {
		return
	}
	var rows int64 = -1
	var complete bool
	e.Get("rows", &rows)
	e.Get("complete", &complete)
	e.Get("encrypted", &b.Encrypted)
	if s := str(e, "sha256"); s != "" {
		b.SHA256 = s
	}
	b.CutShort = !complete
	if rows >= 0 {
		if !b.counted {
			p.Deleted += rows
		}
		b.Rows, b.counted = rows, true
	}
}

func (p *Product) verifyLine(e audit.Entry) {
	v := p.verify()
	v.End, v.Failed = e.Time, e.Outcome != "ok"
	v.Verified = e.Outcome == "ok"
	e.Get("tokens_checked", &v.TokensChecked)
	e.Get("tokens_remaining", &v.TokensRemaining)
	e.Get("cookies_checked", &v.CookiesChecked)
	e.Get("sessions_before", &v.SessionsBefore)
	e.Get("sessions_valid_after", &v.SessionsValidAfter)
	e.Get("nodes_running", &v.NodesRunning)
	e.Get("node_states", &v.NodeStates)
	e.Get("problems", &v.Problems)
	if v.TokensChecked {
		p.TokensRemaining = v.TokensRemaining
	}
	p.Verified = v.Verified
}

func (p *Product) node(name string) *Node {
	for _, n := range p.Nodes {
		if n.Name == name {
			return n
		}
	}
	n := &Node{Name: name, Status: "untouched"}
	p.Nodes = append(p.Nodes, n)
	return n
}

func (p *Product) api() *API {
	if p.API == nil {
		p.API = &API{}
	}
	return p.API
}

func (p *Product) verify() *Verify {
	if p.Verify == nil {
		p.Verify = &Verify{TokensRemaining: -1}
	}
	return p.Verify
}

// finish derives what the lines imply: statuses, downtime, restart evidence, kept counts.
func (p *Product) finish() {
	switch {
	case p.Fail != nil:
		p.Status = "failed"
	case p.Verify != nil && !p.Verify.End.IsZero():
		p.Status = "done"
	case p.Status == "planned" || p.Status == "":
		if p.Lock.IsZero() {
			p.Status = "not started"
		}
	}
	if p.Purged && p.ExcludedTokens >= 0 && p.Kept >= p.ExcludedTokens {
		p.KeptAfterCutoff = p.Kept - p.ExcludedTokens
	}
	for _, n := range p.Nodes {
		n.finish()
	}
	target := p.RestoreTarget
	if target == "" {
		target = "--product " + p.ID + " TARGET"
	}
	for i := range p.Backups {
		p.Backups[i].Restore = "reauth restore " + target + " " + reauth.ShellQuote(p.Backups[i].File)
		if p.Backups[i].Encrypted {
			p.Backups[i].Restore += " --identity KEYFILE"
		}
		if p.Backups[i].CutShort {
			p.Backups[i].Restore += " --accept-truncated"
		}
	}
	p.sumProof()
	p.applyProofObject()
}

func (n *Node) finish() {
	var evidence []string
	for _, ph := range n.Phases {
		switch ph.Name {
		case "down":
			if n.Down.IsZero() {
				n.Down = ph.Time
				if ph.Message != "" {
					evidence = append(evidence, ph.Message)
				} else {
					evidence = append(evidence, "seen down ("+orDash(ph.State)+")")
				}
			}
		case "stable":
			if n.Running.IsZero() && !n.Down.IsZero() {
				n.Running = ph.Time
				evidence = append(evidence, "then RUNNING")
			}
		case "failed":
			if n.Status == "untouched" || n.Status == "" {
				n.Status = "failed"
			}
			if n.Error == "" {
				n.Error = ph.Message
			}
		case "skipped":
			n.Status = "skipped (already restarted)"
			evidence = append(evidence, "restarted in an earlier run (journal)")
		case "restarted":
			if n.Status == "untouched" || n.Status == "" {
				n.Status = "restarted"
			}
		}
	}
	switch {
	case !n.Down.IsZero() && !n.Running.IsZero():
		n.Downtime = n.Running.Sub(n.Down)
	case !n.Down.IsZero() && len(n.Phases) > 0:
		n.Downtime = n.Phases[len(n.Phases)-1].Time.Sub(n.Down) // down until it failed
	}
	n.Evidence = strings.Join(evidence, ", ")
}

func (r *Report) finish() {
	r.Timeline = buildTimeline(r)
	r.Summary = summary(r)
	r.NotCovered = append(r.NotCovered, skipped(r)...)
	if !r.Finished {
		r.Outcome, r.Reason = Failed, "the run did not finish: its last line in the audit log is "+lastStep(r)+
			" (the process was killed, or is still running)"
		return
	}
	if r.ExitCode != 0 {
		r.Outcome = Failed
		r.Reason = fmt.Sprintf("exit %d (%s): %s", r.ExitCode, exitName(r.ExitCode), firstLine(r.Reason))
		return
	}
	if outcome, reason, ok := proofObjectOutcome(r); ok {
		r.Outcome, r.Reason = outcome, reason
		return
	}
	r.Outcome, r.Reason = proofOutcome(r)
}
