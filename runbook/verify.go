package runbook

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/reauth/reauth/health"
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

// captureBefore logs the canary in on every node (remember-me on) and counts which sessions are
// valid before anything changes. Failures here are reported, not fatal: the canary is extra proof.
func (u *unit) captureBefore(ctx context.Context) {
	if u.inv.Canary != nil {
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
	valid, _ := u.replayAll(ctx)
	u.report.Verify.SessionsBefore = valid
	u.logReplay("before", u.replayed)
}

// replayAll replays every session's cookies on every node; it returns how many sessions are still
// valid on some node, and the accepted outcomes.
func (u *unit) replayAll(ctx context.Context) (int, []verify.Outcome) {
	r := verify.Replayer{Product: u.prod, Client: verify.NewClient(u.o.HTTP.Timeout)}
	valid := 0
	var accepted []verify.Outcome
	u.replayed = u.replayed[:0]
	for _, s := range u.sessions() {
		alive := false
		for _, c := range s.cookies {
			for _, n := range u.rplan.Nodes {
				out := r.Replay(ctx, n.Name, n.URL, c)
				out.Label = s.label
				u.replayed = append(u.replayed, out)
				if out.Accepted {
					accepted = append(accepted, out)
					alive = true
				}
			}
		}
		if alive {
			valid++
		}
	}
	return valid, accepted
}

// verifyStep runs the three checks and records them. Without a known cut-off (countTokens
// false) the token check is reported as not done, and the result cannot be verified.
func (u *unit) verifyStep(ctx context.Context, countTokens bool) {
	u.step(StepVerifyStart, "ok", nil)
	v := &u.report.Verify
	v.TokensChecked, v.TokensRemaining = false, -1
	if !countTokens {
		v.Problems = append(v.Problems,
			"no journal of an earlier run in the state directory: the cut-off is unknown, so remaining tokens were not counted")
	} else if rem, err := u.store.Remaining(ctx, u.journal.CutoffID, sqlstore.PurgeOptions{ExcludeUsers: u.inv.ExcludeUsers}); err != nil {
		v.Problems = append(v.Problems, "could not count remaining tokens: "+err.Error())
	} else {
		v.TokensChecked, v.TokensRemaining = true, rem
		if rem > 0 {
			v.Problems = append(v.Problems, fmt.Sprintf("%d token(s) issued before the cut-off remain", rem))
		}
	}
	ss := u.sessions()
	for _, s := range ss {
		v.CookiesChecked += len(s.cookies)
	}
	v.SessionsValidAfter, v.Accepted = u.replayAll(ctx)
	// The API ends sessions cluster-wide asynchronously (each node drops them when the cluster
	// message reaches it): give it a short while before calling a live cookie a failure.
	for deadline := time.Now().Add(apiSettle); u.useAPI() && len(v.Accepted) > 0 && time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			deadline = time.Time{}
		case <-time.After(250 * time.Millisecond):
			v.SessionsValidAfter, v.Accepted = u.replayAll(ctx)
		}
	}
	u.logReplay("after", u.replayed)
	for _, a := range v.Accepted {
		v.Problems = append(v.Problems, fmt.Sprintf("node %s still accepts %s (%s) as %q", a.Node, a.Cookie, a.Label, a.User))
	}
	v.NodeStates, v.NodesRunning = map[string]string{}, true
	for _, n := range u.rplan.Nodes {
		r := health.Probe(ctx, u.o.HTTP, u.prod, n.URL)
		v.NodeStates[n.Name] = r.String()
		if !r.Ready {
			v.NodesRunning = false
			v.Problems = append(v.Problems, fmt.Sprintf("node %s is not RUNNING (%s)", n.Name, r))
		}
	}
	v.Verified = v.TokensChecked && v.TokensRemaining == 0 && len(v.Accepted) == 0 && v.NodesRunning
	outcome := "ok"
	if !v.Verified {
		outcome = "failed"
	}
	u.step("verify", outcome, map[string]any{"tokens_remaining": v.TokensRemaining, "cookies_checked": v.CookiesChecked,
		"sessions_before": v.SessionsBefore, "sessions_valid_after": v.SessionsValidAfter, "nodes_running": v.NodesRunning,
		"tokens_checked": v.TokensChecked, "node_states": v.NodeStates, "problems": v.Problems})
}

func joinProblems(p []string) string { return strings.Join(p, "; ") }
