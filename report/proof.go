package report

import (
	"sort"
	"strings"

	"github.com/reauth/reauth/audit"
)

// The proof: every cookie replayed before the run and after it, per node.

func (p *Product) replayLine(e audit.Entry) {
	var sources []struct {
		Source, Cookie             string
		Accepted, Rejected, Errors []string
	}
	e.Get("sources", &sources)
	for _, s := range sources {
		// "cookies file NAME#fingerprint": the cookie column already names the cookie.
		s.Source = strings.TrimSpace(strings.TrimSuffix(s.Source, s.Cookie))
		row := p.proofRow(s.Source, s.Cookie)
		m := map[string]string{}
		for _, n := range s.Accepted {
			m[n] = Accepted
		}
		for _, n := range s.Rejected {
			m[n] = Rejected
		}
		for _, n := range s.Errors {
			m[n] = NoAnswer
		}
		if e.Outcome == "before" {
			row.Before = m
		} else {
			row.After = m
		}
	}
}

func (p *Product) proofRow(source, cookie string) *ProofRow {
	for i := range p.Proof {
		if p.Proof[i].Source == source && p.Proof[i].Cookie == cookie {
			return &p.Proof[i]
		}
	}
	p.Proof = append(p.Proof, ProofRow{Source: source, Cookie: cookie})
	return &p.Proof[len(p.Proof)-1]
}

// maxProofRows is how many replayed cookies the report lists one by one.
const maxProofRows = 20

// sumProof counts the replays per node and keeps the first rows, the cookies still accepted after
// the run first.
func (p *Product) sumProof() {
	for _, n := range p.Nodes {
		pn := ProofNode{Node: n.Name}
		for _, row := range p.Proof {
			if row.Before[n.Name] == Accepted {
				pn.AcceptedBefore++
			}
			switch row.After[n.Name] {
			case Accepted:
				pn.AcceptedAfter++
			case Rejected:
				pn.RejectedAfter++
			case NoAnswer:
				pn.Errors++
			default:
				continue
			}
			pn.Replayed++
		}
		if len(p.Proof) > 0 {
			p.ProofNodes = append(p.ProofNodes, pn)
		}
	}
	stillAccepted := func(r ProofRow) bool {
		for _, v := range r.After {
			if v == Accepted {
				return true
			}
		}
		return false
	}
	sort.SliceStable(p.Proof, func(i, j int) bool {
		ai, aj := stillAccepted(p.Proof[i]), stillAccepted(p.Proof[j])
		if ai != aj {
			return ai
		}
		return p.Proof[i].Source < p.Proof[j].Source
	})
	if len(p.Proof) > maxProofRows {
		p.ProofHidden, p.Proof = len(p.Proof)-maxProofRows, p.Proof[:maxProofRows]
	}
}
