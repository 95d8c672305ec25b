package runbook

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/reauth/reauth/internal/termsafe"
)

// printProofPlan says, in the plan, which cookies will prove the run.
func (u *unit) printProofPlan(w io.Writer) {
	_, why := u.proofFormat()
	switch user := u.proofUser(); {
	case why != "":
		fmt.Fprintf(w, "   proof      no minted or sampled cookies: %s\n", termsafe.Text(why))
		return
	case user == "" || excludedUser(u.inv.ExcludeUsers, user):
		fmt.Fprintln(w, "   proof      no proof token (set proof_user: to an account the purge covers)")
	default:
		fmt.Fprintf(w, "   proof      a proof token minted for %s (one row, negative id) must be accepted by every node before and rejected after\n", termsafe.Field(user))
	}
	if n := u.proofSample(); n > 0 {
		fmt.Fprintf(w, "              up to %d of the tokens purged (spread over users, kept in memory only) are replayed on every node before and after\n", n)
	}
	if who := u.proofLogins(); who != "" {
		fmt.Fprintf(w, "              %s\n", who)
	}
}

// proofLogins says who the proof logs in as, before it does: its replays are real logins, seen
// in the product's audit and access logs as those users' remember-me logins from this host, and
// a SOC that is not told may take them for the attacker ("" when nothing is replayed).
func (u *unit) proofLogins() string {
	if _, why := u.proofFormat(); why != "" {
		return ""
	}
	var as []string
	if user := u.proofUser(); user != "" && !excludedUser(u.inv.ExcludeUsers, user) {
		as = append(as, termsafe.Field(user)+" (the proof token)")
	}
	n := u.proofSample()
	if n > 0 {
		as = append(as, fmt.Sprintf("up to %d sampled user(s), named in the report", n))
	}
	if u.inv.Canary != nil && !u.o.verifyOnly {
		as = append(as, termsafe.Field(u.inv.Canary.User)+" (the canary, with its password)")
	}
	if len(as) == 0 {
		return ""
	}
	host, _ := os.Hostname()
	line := fmt.Sprintf("these replays are real logins on every node from this host (%s) as %s: the product's audit and access logs "+
		"show them as those users' logins, so tell whoever watches them (the SOC)", termsafe.Field(host), strings.Join(as, ", "))
	if n > 0 {
		line += "; --proof-sample 0 leaves the sampled users out"
	}
	return line
}

// printProof is the proof part of the human report.
func printProof(w io.Writer, p ProofReport) {
	var src []string
	for _, k := range sortedKeys(p.Sources) {
		src = append(src, fmt.Sprintf("%s %d", k, p.Sources[k]))
	}
	fmt.Fprintf(w, "   proof   level %s: %d cookie(s) replayed on every node (%s)\n", p.Level, p.CookiesReplayed, strings.Join(src, ", "))
	if m := p.Minted; m != nil && m.RowID != 0 {
		fmt.Fprintf(w, "           minted token for %s (row %d): accepted before by %s; rejected after by %s; removed: %v\n",
			termsafe.Field(m.User), m.RowID, list(m.AcceptedBefore), list(m.RejectedAfter), m.Removed)
	}
	if m := p.Minted; m != nil && m.Note != "" {
		fmt.Fprintf(w, "           minted: %s\n", termsafe.Text(m.Note))
	}
	if s := p.Sampled; s.Taken > 0 || s.Note != "" {
		fmt.Fprintf(w, "           sampled %d purged token(s) of %d user(s) from the %s", s.Taken, s.Users, nonEmpty(s.From, "table"))
		if s.Note != "" {
			fmt.Fprintf(w, " (%s)", termsafe.Text(s.Note))
		}
		fmt.Fprintln(w)
	}
	for _, n := range p.Nodes {
		fmt.Fprintf(w, "           node %-10s accepted before %d, rejected after %d, still accepted %d; %s: %s\n",
			termsafe.Field(n.Node), n.AcceptedBefore, n.RejectedAfter, n.AcceptedAfter, n.Restart.Mode, termsafe.Text(n.Restart.Evidence))
	}
	for _, np := range p.NotProven {
		fmt.Fprintf(w, "           not proven: %s\n", termsafe.Text(np))
	}
	if p.HowToProve != "" {
		fmt.Fprintf(w, "           for full proof: %s\n", termsafe.Text(p.HowToProve))
	}
}

func list(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = termsafe.Field(x)
	}
	return strings.Join(out, ", ")
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// RunProof sums up the products' proofs (the run's --json "proof" object): the weakest level,
// the cookies replayed, and every cookie that still logs in.
type RunProof struct {
	Level           string         `json:"level"`
	CookiesReplayed int            `json:"cookies_replayed"`
	AcceptedAfter   []ProofFailure `json:"accepted_after,omitempty"`
}

func runProof(ps []ProductReport) RunProof {
	rank := map[string]int{ProofNone: 0, ProofTokensOnly: 1, ProofCookies: 2}
	out := RunProof{Level: ProofCookies}
	seen := false
	for _, p := range ps {
		if p.Status == StatusSkipped || p.Status == StatusNotStarted || p.Status == StatusPlanned {
			continue
		}
		seen = true
		pr := p.Verify.Proof
		if rank[pr.Level] < rank[out.Level] {
			out.Level = pr.Level
		}
		out.CookiesReplayed += pr.CookiesReplayed
		out.AcceptedAfter = append(out.AcceptedAfter, pr.AcceptedAfter...)
	}
	if !seen {
		out.Level = ProofNone
	}
	return out
}
