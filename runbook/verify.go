package runbook

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/cookiefile"
	"github.com/reauth/reauth/sqlstore"
	"github.com/reauth/reauth/verify"
)

// VerifyReport is the proof: (a) no token issued before the cut-off remains, (b) every captured
// cookie is rejected by every node, (c) every node is RUNNING. Verified only if all three hold
// and each could be checked.
type VerifyReport struct {
	Verified           bool              `json:"verified"`
	TokensChecked      bool              `json:"tokens_checked"`
	TokensRemaining    int64             `json:"tokens_remaining"`
	CookiesChecked     int               `json:"cookies_checked"`
	SessionsBefore     int               `json:"sessions_before"`
	SessionsValidAfter int               `json:"sessions_valid_after"`
	Accepted           []verify.Outcome  `json:"accepted_after,omitempty"`
	NodeStates         map[string]string `json:"node_states"`
	NodesRunning       bool              `json:"nodes_running"`
	Problems           []string          `json:"problems,omitempty"`
	Proof              ProofReport       `json:"proof"`
}

// apiSettle is how long verification waits for API-ended sessions to disappear from every node.
const apiSettle = 30 * time.Second

// session is one browser session to prove dead: its cookies, each replayed on its own.
type session struct {
	label   string
	cookies []*http.Cookie
}

func (u *unit) sessions() []session {
	var out []session
	out = append(out, u.captured...)
	for _, c := range u.jar {
		out = append(out, session{label: "cookies file " + verify.Describe(c), cookies: []*http.Cookie{c}})
	}
	return out
}

// captureBefore logs the canary in on every node (remember-me on). Failures here are reported,
// not fatal: the canary is extra proof. Its cookies are replayed with the other proof cookies.
func (u *unit) captureBefore(ctx context.Context) {
	if u.inv.Canary == nil {
		return
	}
	for _, n := range u.rplan.Nodes {
		cs, err := verify.Login(ctx, u.o.HTTP, u.prod, n.URL, u.inv.Canary.User, u.canary)
		if err != nil {
			u.report.Warnings = append(u.report.Warnings, "canary: "+err.Error())
			continue
		}
		u.captured = append(u.captured, session{label: "canary " + u.inv.Canary.User + " via " + n.Name, cookies: cs})
	}
	u.step("canary", "ok", map[string]any{"captured": len(u.captured)})
}

// verifyStep runs the checks and records them: no token issued before the run is left (by
// creation time or id, proof.go), every proof cookie (minted, sampled, canary, --cookies) and
// every session a node started for one before is rejected by every node, every node is RUNNING
// with evidence that its sessions are gone. Without a known cut-off (countTokens false) the token
// check is reported as not done, and the result cannot be verified.
func (u *unit) verifyStep(ctx context.Context, countTokens bool) {
	u.step(StepVerifyStart, "ok", nil)
	v := &u.report.Verify
	v.Problems = nil
	u.countTokens(ctx, countTokens)
	if countTokens && v.TokensChecked {
		u.verifyFurther(ctx)
	}
	if u.o.verifyOnly || !u.hasRowCookies() {
		u.proofFromBackups(ctx)
	}
	if u.o.verifyOnly {
		for _, s := range u.sessions() {
			for _, c := range s.cookies {
				u.proof = append(u.proof, &proofCookie{label: s.label, source: SourceJar, cookie: c})
			}
		}
	}
	u.replayAfter(ctx)
	u.settle(ctx)
	u.logReplay("after", u.replayed)
	v.CookiesChecked = v.Proof.CookiesReplayed
	v.Accepted = nil
	v.NodeStates, v.NodesRunning = map[string]string{}, true
	running := map[string]bool{}
	nodes := u.prober()
	for _, n := range u.rplan.Nodes {
		r := nodes.Status(ctx, n.URL)
		v.NodeStates[n.Name], running[n.Name] = r.String(), r.Ready
		if !r.Ready {
			v.NodesRunning = false
			v.Problems = append(v.Problems, fmt.Sprintf("node %s is not RUNNING (%s)", n.Name, r))
		}
	}
	u.judge(u.restartEvidence(running))
	outcome := "ok"
	if !v.Verified {
		outcome = "failed"
	}
	u.step("proof", v.Proof.Level, map[string]any{"proof": v.Proof})
	u.step("verify", outcome, map[string]any{"tokens_remaining": v.TokensRemaining, "cookies_checked": v.CookiesChecked,
		"sessions_before": v.SessionsBefore, "sessions_valid_after": v.SessionsValidAfter, "nodes_running": v.NodesRunning,
		"tokens_checked": v.TokensChecked, "node_states": v.NodeStates, "problems": v.Problems,
		"proof_level": v.Proof.Level, "issued_before_by": v.Proof.IssuedBefore.By})
}

// countTokens counts the tokens issued before the run that are left: by creation time where the
// run judged so (the database clock at its start), else by id.
func (u *unit) countTokens(ctx context.Context, countTokens bool) {
	v := &u.report.Verify
	ib := &v.Proof.IssuedBefore
	v.TokensChecked, v.TokensRemaining = false, -1
	if !countTokens {
		v.Problems = append(v.Problems,
			"no journal of an earlier run in the state directory: the cut-off is unknown, so remaining tokens were not counted")
		return
	}
	o := sqlstore.PurgeOptions{ExcludeUsers: u.inv.ExcludeUsers}
	byID, err := u.store.Remaining(ctx, u.journal.CutoffID, o)
	if err != nil {
		v.Problems = append(v.Problems, "could not count remaining tokens: "+err.Error())
		return
	}
	rem := byID
	if ib.By == "" {
		ib.By, ib.Start = nonEmpty(u.journal.IssuedBy, "id"), u.journal.RunStartDB
	}
	if ib.By == "created" && ib.Start != nil {
		before, err := u.store.IssuedBefore(ctx, u.journal.CutoffID, *ib.Start, o)
		if err != nil {
			v.Problems = append(v.Problems, "could not count remaining tokens by creation time: "+err.Error())
			return
		}
		rem, ib.LaterBelowCutoff = before, byID-before
	}
	v.TokensChecked, v.TokensRemaining = true, rem
	if rem > 0 {
		v.Problems = append(v.Problems, fmt.Sprintf("%d token(s) issued before the run remain (judged by %s)", rem, ib.By))
	}
}

func joinProblems(p []string) string { return strings.Join(p, "; ") }

// loadJar reads a browser's exported cookie jar and keeps the product's session and remember-me
// cookies, its SSO cookie (Crowd's crowd.token_key) and any extra names (an application that
// trusts Crowd SSO, with Crowd in the run: crowd.token_key), whatever their domain: they are
// replayed against every node.
func loadJar(path string, p atlassian.Product, extra ...string) ([]*http.Cookie, error) {
	keep := map[string]bool{p.SessionCookie: true, p.RememberMeCookie: true}
	if p.SSOCookie != "" {
		keep[p.SSOCookie] = true
	}
	for _, e := range extra {
		keep[e] = true
	}
	cs, err := cookiefile.Load(path)
	if err != nil {
		return nil, reauth.Usage("export the browser's cookies in Netscape format (cookies.txt)", "--cookies: %v", err)
	}
	var out []*http.Cookie
	for _, c := range cs {
		if keep[c.Name] {
			out = append(out, &http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	if len(out) == 0 {
		return nil, reauth.Usage("", "--cookies %s holds no %s or %s cookie", path, p.SessionCookie, p.RememberMeCookie)
	}
	return out, nil
}
