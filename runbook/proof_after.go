package runbook

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/verify"
)

// controlled: a rejection of c by node means something, because node accepted c before the
// purge. Cookies that could not be replayed before (verify: the operator's --cookies) count as
// given; rows rebuilt from a backup were accepted by every node before (the journal says so).
func (c *proofCookie) controlled(node string) bool {
	if c.before == nil {
		return true
	}
	return c.before[node]
}

// replayAfter replays every proof cookie, and every session a node started for one before, on
// every node; it fills the per-node proof and lists what still logs in.
func (u *unit) replayAfter(ctx context.Context) {
	pr := &u.report.Verify.Proof
	r := u.prober()
	pr.Nodes, pr.FrontDoor, pr.AcceptedAfter, pr.Sources, pr.CookiesReplayed = nil, nil, nil, map[string]int{}, 0
	if pr.Minted != nil {
		pr.Minted.RejectedAfter = nil
	}
	valid := map[*proofCookie]bool{}
	u.replayed = u.replayed[:0]
	for _, n := range u.proofTargets() {
		np := NodeProof{Node: n.Name}
		for _, c := range u.proof {
			if c.before[n.Name] {
				np.AcceptedBefore++
			}
			out := r.Replay(ctx, n.Name, n.URL, c.cookie)
			out.Label = c.name()
			u.replayed = append(u.replayed, out)
			switch {
			case out.Error != "":
				np.Errors++
			case out.Accepted:
				np.AcceptedAfter++
				valid[c] = true
				pr.AcceptedAfter = append(pr.AcceptedAfter, u.failure(n.Name, c.source, nonEmpty(out.User, c.user), out))
			case c.controlled(n.Name):
				np.RejectedAfter++
				if c.source == SourceMinted && pr.Minted != nil {
					pr.Minted.RejectedAfter = append(pr.Minted.RejectedAfter, n.Name)
				}
			}
			if s := c.session[n.Name]; s != nil {
				np.Restart.SessionsChecked++
				so := r.Replay(ctx, n.Name, n.URL, s)
				so.Label = "session started on " + n.Name + " before, by the " + c.name()
				u.replayed = append(u.replayed, so)
				if so.Accepted {
					pr.AcceptedAfter = append(pr.AcceptedAfter, u.failure(n.Name, SourceSession, nonEmpty(so.User, c.user), so))
				} else if so.Error == "" {
					np.Restart.SessionsRejected++
				}
			}
		}
		if n.Name == FrontDoor {
			pr.FrontDoor = &np // not a node: no restart to judge (frontdoor.go)
			continue
		}
		pr.Nodes = append(pr.Nodes, np)
	}
	for _, c := range u.proof {
		pr.Sources[c.source]++
	}
	pr.CookiesReplayed = len(u.proof)
	u.report.Verify.SessionsValidAfter = len(valid)
}

// failure names a cookie that still logs in, with the next step.
func (u *unit) failure(node, source, user string, out verify.Outcome) ProofFailure {
	return ProofFailure{Node: node, User: user, Source: source, Cookie: out.Cookie, Next: u.survivorNext(node, source, out)}
}

// restartEvidence fills each node's evidence that its in-memory sessions are gone.
func (u *unit) restartEvidence(states map[string]bool) bool {
	pr := &u.report.Verify.Proof
	ok := true
	for i := range pr.Nodes {
		np := &pr.Nodes[i]
		ev := &np.Restart
		ev.Running = states[np.Node]
		switch {
		case u.o.verifyOnly:
			ev.Mode = "earlier run"
			ev.Evidence = fmt.Sprintf("the run's journal says phase %q", u.journal.Phase)
			ok = ok && (u.journal.Phase == PhaseDone || u.journal.Phase.sessionsEnded())
		default:
			ok = u.ending().evidence(u, ev, np.Node) && ok
		}
		if ev.SessionsChecked > 0 {
			ev.Evidence += fmt.Sprintf("; %d of %d session(s) started on it before the purge are gone", ev.SessionsRejected, ev.SessionsChecked)
		} else if !u.o.verifyOnly {
			ev.Evidence += "; no session started on it before could be replayed (in-memory sessions judged by the restart alone)"
		}
	}
	return ok
}

// judge sets the proof level, what was not proven and how to prove it, and says whether the
// product is verified.
func (u *unit) judge(restartOK bool) {
	v := &u.report.Verify
	pr := &v.Proof
	pr.NotProven, pr.HowToProve = nil, ""
	defer u.noteFrontDoor()
	// The level is how deep the check went: cookies when every node was shown cookies it
	// accepted before (or that still log in: then the check went deep and failed).
	cookieProof := len(pr.Nodes) > 0
	for _, np := range pr.Nodes {
		if np.RejectedAfter+np.AcceptedAfter == 0 {
			cookieProof = false
			pr.NotProven = append(pr.NotProven, fmt.Sprintf("node %s: no cookie it accepted before was replayed and rejected after", np.Node))
		}
	}
	switch {
	case cookieProof:
		pr.Level = ProofCookies
	case v.TokensChecked:
		pr.Level = ProofTokensOnly
	default:
		pr.Level = ProofNone
	}
	if pr.Level != ProofCookies && len(pr.AcceptedAfter) == 0 {
		how := []string{"give a canary: {user, password_env} in the inventory", "or pass --cookies with a browser's exported cookies"}
		if _, why := u.proofFormat(); why == "" {
			if mint := u.mintHint(); mint != "" {
				how = append([]string{mint}, how...)
			}
		} else {
			how = append([]string{"confirm the cookie format with proof_cookie: in the inventory (" + why + ")"}, how...)
		}
		pr.HowToProve = strings.Join(how, ", ")
	}
	v.Problems = append(v.Problems, survivors(pr.AcceptedAfter)...)
	v.Verified = pr.Level == ProofCookies && len(pr.AcceptedAfter) == 0 && v.TokensChecked && v.TokensRemaining == 0 && v.NodesRunning && restartOK
}

// mintHint says what would let reauth's own proof token prove the next run, or "" when nothing
// about it is to change. "Set proof_user" only helps where no account is named: with one named,
// the token was not minted (a resumed run: its value died with the first process), or the account
// does not exist or could not log in, and the hint says which.
func (u *unit) mintHint() string {
	user := u.proofUser()
	m := u.report.Verify.Proof.Minted
	switch {
	case user == "":
		return "set proof_user (or admin:) so that reauth mints its own proof token"
	case u.resumed:
		return fmt.Sprintf("the proof token for %s (proof_user, or admin:) was minted by the first run and its value died "+
			"with that process: a resumed run cannot replay it", user)
	case m != nil && m.Note != "":
		return fmt.Sprintf("the proof token for %s (proof_user, or admin:) did not prove the run (%s): name an account of %s "+
			"that exists and may log in", user, m.Note, u.prod.Name)
	}
	return ""
}

// hardFailure: the run did not do its job (a cookie or token survives, a node is down), as
// opposed to a run that did it but could not prove it with cookies.
func (v *VerifyReport) hardFailure() bool {
	return len(v.Proof.AcceptedAfter) > 0 || !v.TokensChecked || v.TokensRemaining != 0 || !v.NodesRunning
}

// settle gives the ender's while (the API ends sessions cluster-wide asynchronously: each node
// drops them when the cluster message reaches it; a restart needs none) before calling a live
// cookie a failure.
func (u *unit) settle(ctx context.Context) {
	for deadline := time.Now().Add(u.ending().settle()); len(u.report.Verify.Proof.AcceptedAfter) > 0 && time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			return
		case <-time.After(250 * time.Millisecond):
			u.replayAfter(ctx)
		}
	}
}

// survivors is one problem line per node that still logs someone in: the users, the cookie
// sources, and the next step.
func survivors(fs []ProofFailure) []string {
	var nodes []string
	by := map[string][]ProofFailure{}
	for _, f := range fs {
		if _, ok := by[f.Node]; !ok {
			nodes = append(nodes, f.Node)
		}
		by[f.Node] = append(by[f.Node], f)
	}
	var out []string
	for _, n := range nodes {
		users, sources := map[string]bool{}, map[string]bool{}
		var ul, sl []string
		for _, f := range by[n] {
			if !users[f.User] {
				users[f.User], ul = true, append(ul, f.User)
			}
			if !sources[f.Source] {
				sources[f.Source], sl = true, append(sl, f.Source)
			}
		}
		out = append(out, fmt.Sprintf("node %s still logs in %s with %d old cookie(s) (%s): sessions survive; next: %s",
			n, strings.Join(ul, ", "), len(by[n]), strings.Join(sl, ", "), by[n][0].Next))
	}
	return out
}

func nonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// notVerifiedWarning is the warning line of a run that did its job but could not prove it with
// cookies.
func (u *unit) notVerifiedWarning() error {
	pr := u.report.Verify.Proof
	return reauth.WithHint(fmt.Errorf("%s: not verified: proof level %s (%s)", u.name, pr.Level, strings.Join(pr.NotProven, "; ")), pr.HowToProve)
}
