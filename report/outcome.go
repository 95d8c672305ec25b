package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/reauth/reauth/audit"
)

// proofOutcome judges a run that ended with exit 0: verified only with cookie-level proof, that
// is old cookies that some node accepted before the run and that every node rejected after it,
// plus no token left from before the cut-off and every node RUNNING.
func proofOutcome(r *Report) (string, string) {
	if r.Outcome != Verified {
		problems := []string{}
		for _, p := range r.Products {
			if p.Verify != nil {
				problems = append(problems, p.Verify.Problems...)
			}
		}
		if len(problems) > 0 {
			return Unproven, "the checks did not pass: " + strings.Join(problems, "; ")
		}
		return Unproven, "the run finished but did not prove that old sessions are gone"
	}
	switch {
	case r.CookiesChecked == 0:
		return Unproven, "no old cookie was replayed (no canary in the inventory, no --cookies): the old tokens are " +
			"deleted and the run ended without error, but nothing showed that an old cookie stopped working. " +
			"Add a canary account or pass --cookies to prove it"
	case r.SessionsBefore == 0:
		return Unproven, fmt.Sprintf("%d cookie(s) were replayed, but no node accepted them before the run either: "+
			"their rejection afterwards proves nothing", r.CookiesChecked)
	}
	return Verified, fmt.Sprintf("%d old browser session(s) worked before the run and every node rejects all %d replayed cookie(s) now; "+
		"no token issued before the cut-off is left; every node is RUNNING", r.SessionsBefore, r.CookiesChecked)
}

// summary says what was done, in one sentence.
func summary(r *Report) string {
	var parts []string
	for _, p := range r.Products {
		s := fmt.Sprintf("%s: %d remember-me token(s) deleted", p.Name, p.Deleted)
		if len(p.Backups) > 0 {
			s += " with backup"
		}
		restarted := 0
		for _, n := range p.Nodes {
			if n.Status == "restarted" {
				restarted++
			}
		}
		switch {
		case p.Mode == "api" && p.API != nil:
			s += fmt.Sprintf(", sessions of %d user(s) ended through the REST API (no restart)", p.API.Ended)
		case p.Mode == "api":
			s += ", sessions to be ended through the REST API (not reached)"
		default:
			s += fmt.Sprintf(", %d of %d node(s) restarted one at a time", restarted, len(p.Nodes))
		}
		if p.Status != "done" {
			s += " (" + p.Status + ")"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "nothing: no product was started"
	}
	return "Forced re-login. " + strings.Join(parts, "; ") + "."
}

func exitName(code int) string {
	switch code {
	case 0:
		return "done"
	case 1:
		return "failed"
	case 2:
		return "usage"
	case 3:
		return "partial: some nodes restarted, then a failure"
	case 4:
		return "refused"
	case 5:
		return "locked"
	case 130:
		return "interrupted"
	}
	return "unknown"
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func lastStep(r *Report) string {
	return fmt.Sprintf("%q at %s", r.lastLine, clock(r.Ended))
}

// skipped lists what this run did not do, for the report's "not covered" section.
func skipped(r *Report) []string {
	var out []string
	for _, p := range r.Products {
		switch p.Status {
		case "not started", "planned":
			out = append(out, fmt.Sprintf("%s: not started (the run stopped before it): its tokens and sessions are untouched", p.Name))
			continue
		}
		var untouched []string
		for _, n := range p.Nodes {
			if n.Status == "untouched" && p.Mode != "api" {
				untouched = append(untouched, n.Name)
			}
		}
		if len(untouched) > 0 {
			out = append(out, fmt.Sprintf("%s: node(s) %s not restarted: their in-memory sessions are still valid",
				p.Name, strings.Join(untouched, ", ")))
		}
		if p.Mode == "api" {
			out = append(out, p.Name+": no node was restarted (API mode): sessions were ended through the product's REST API")
		}
		if p.Verify == nil || p.Verify.End.IsZero() {
			out = append(out, p.Name+": not verified (the run did not reach the checks)")
		} else if len(p.Proof) == 0 && (p.ProofObject == nil || p.ProofObject.Level != "cookies") {
			out = append(out, p.Name+": no old cookie replayed (no canary, no --cookies): cookie-level proof missing")
		}
	}
	return append(out, sharedWarnings(r.Products)...)
}

// sharedWarnings lists each product's warnings, a warning that several products share (the
// clear-backup warning, say) once, naming them all, in the order first seen.
func sharedWarnings(ps []*Product) []string {
	var order []string
	who := map[string][]string{}
	for _, p := range ps {
		if p.Status == "not started" || p.Status == "planned" {
			continue // said as not started, above
		}
		for _, w := range p.Warnings {
			if len(who[w]) == 0 {
				order = append(order, w)
			}
			if !slices.Contains(who[w], p.Name) {
				who[w] = append(who[w], p.Name)
			}
		}
	}
	out := make([]string, 0, len(order))
	for _, w := range order {
		out = append(out, strings.Join(who[w], ", ")+": "+w)
	}
	return out
}

func str(e audit.Entry, k string) string {
	var s string
	e.Get(k, &s)
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
