package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/reauth/reauth/runbook"
)

// ProofObject is the product's proof as the run judged it, from the audit log's "proof" step
// (the "proof" object of --json): runbook's own ProofReport, decoded as the run wrote it. Runs
// from before that step have none: the report then judges from the replayed cookies alone.
type ProofObject struct {
	runbook.ProofReport
}

// SourceList names the sources and their cookie counts, in a stable order.
func (o *ProofObject) SourceList() string {
	names := make([]string, 0, len(o.Sources))
	for k := range o.Sources {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, k := range names {
		parts = append(parts, fmt.Sprintf("%s %d", strings.ReplaceAll(k, "_", " "), o.Sources[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// applyProofObject takes the run's own per-node counts and restart evidence where it has them.
func (p *Product) applyProofObject() {
	o := p.ProofObject
	if o == nil || len(o.Nodes) == 0 {
		return
	}
	replayed := map[string]int{} // from the replay lines, which count every cookie
	for _, pn := range p.ProofNodes {
		replayed[pn.Node] = pn.Replayed
	}
	p.ProofNodes = p.ProofNodes[:0]
	for _, n := range o.Nodes {
		pn := ProofNode{Node: n.Node, Replayed: replayed[n.Node], AcceptedBefore: n.AcceptedBefore,
			RejectedAfter: n.RejectedAfter, AcceptedAfter: n.AcceptedAfter, Errors: n.Errors}
		if pn.Replayed == 0 {
			pn.Replayed = o.CookiesReplayed
		}
		p.ProofNodes = append(p.ProofNodes, pn)
		if nd := p.findNode(n.Node); nd != nil && n.Restart.Evidence != "" {
			nd.Evidence = n.Restart.Evidence
		}
	}
}

func (p *Product) findNode(name string) *Node {
	for _, n := range p.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// proofObjectOutcome judges a finished run (exit 0) from the products' proof objects: verified
// only when the run said so and every product reached cookie-level proof.
func proofObjectOutcome(r *Report) (string, string, bool) {
	var missing, how []string
	found, replayed := false, 0
	for _, p := range r.Products {
		o := p.ProofObject
		if o == nil {
			continue
		}
		found = true
		replayed += o.CookiesReplayed
		if o.Level != "cookies" {
			missing = append(missing, fmt.Sprintf("%s: proof level %s", p.Name, orDash(o.Level)))
			missing = append(missing, o.NotProven...)
			if o.HowToProve != "" {
				how = append(how, o.HowToProve)
			}
		}
	}
	switch {
	case !found:
		return "", "", false
	case len(missing) > 0 || r.Outcome != Verified:
		reason := "the run finished but did not prove that old sessions are gone"
		if len(missing) > 0 {
			reason = strings.Join(missing, "; ")
		}
		if len(how) > 0 {
			reason += ". " + strings.Join(how, " ")
		}
		return Unproven, reason, true
	}
	return Verified, fmt.Sprintf("%d old cookie(s) that the nodes accepted before the run are rejected by every node now; "+
		"no token issued before the run is left; every node is RUNNING", replayed), true
}
