package runbook

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/apimode"
	"github.com/reauth/reauth/rollout"
	"github.com/reauth/reauth/tomcat"
)

// ModeReport says how a product's in-memory sessions are ended, and why.
type ModeReport struct {
	Mode    string           `json:"mode"` // "restart" or "api"
	Why     string           `json:"why"`
	Support *apimode.Support `json:"api,omitempty"`
	Users   int              `json:"users,omitempty"` // API mode: users whose sessions are ended
	Result  *apimode.Result  `json:"result,omitempty"`
}

// chooseMode decides, in preflight, between the product's session API and a rolling restart
// (design: --mode on the command line wins over the inventory's mode; auto by default). It only
// reads: Detect's permission check asks to end the sessions of a user that cannot exist.
func (u *unit) chooseMode(ctx context.Context) error {
	mode := u.o.Mode
	if mode == "" {
		mode = u.inv.Mode
	}
	if mode == apimode.ModeRestart {
		u.ender = restartEnder{}
		u.report.Mode = ModeReport{Mode: u.ender.mode(), Why: "restart: rolling restart, as asked (mode: restart)"}
		return nil
	}
	auth, err := apimode.AuthFrom(u.inv.Admin, u.o.Getenv)
	if err != nil {
		return err
	}
	support, err := u.o.seams.sessions.Detect(ctx, u.o.HTTP, u.prod, u.rplan.Nodes[0].URL, auth)
	if err != nil {
		return err
	}
	persist := u.persistenceOn(ctx)
	if err := apimode.CheckMode(mode, support, persist); err != nil {
		return err
	}
	useAPI, why := apimode.Decide(mode, support, persist)
	if sso := u.report.SSO; useAPI && sso != nil && sso.Cache != "" && isAuto(mode) {
		// The plan already says that the application caches Crowd's answer and that a restart is
		// what clears it: auto must not then pick the API and leave that cache alive.
		useAPI = false
		why = fmt.Sprintf("auto: rolling restart, because %s signs in through Crowd SSO and %s (its session API is there: %s)",
			u.prod.Name, sso.Cache, support.Why)
	}
	u.auth = auth
	u.ender = restartEnder{}
	if useAPI {
		u.ender = apiEnder{}
	}
	u.report.Mode = ModeReport{Mode: u.ender.mode(), Why: why, Support: &support}
	return nil
}

// isAuto reports whether mode (the flag's, else the inventory's) leaves the choice to reauth.
func isAuto(mode string) bool {
	m := strings.ToLower(strings.TrimSpace(mode))
	return m == "" || m == apimode.ModeAuto
}

// persistenceOn reports whether any node persists Tomcat sessions (then the API cannot end the
// sessions a restart would restore, and auto restarts instead).
func (u *unit) persistenceOn(ctx context.Context) bool {
	for _, n := range u.rplan.Nodes {
		p, err := rollout.Persistence(ctx, n)
		if err == nil && p.State == tomcat.On {
			return true
		}
	}
	return false
}

// captureUsers lists, before the purge deletes the token rows, everyone whose sessions the API must
// end: active users and every token holder, minus the excluded accounts.
func (u *unit) captureUsers(ctx context.Context) error {
	users, err := u.store.SessionUsers(ctx, u.inv.ExcludeUsers)
	if err != nil {
		return fmt.Errorf("%s: list the users whose sessions to end: %w", u.name, err)
	}
	u.journal.APIUsers = users
	u.report.Mode.Users = len(users)
	return nil
}

// apiStep ends every listed user's sessions on the whole cluster through the product's REST API.
// It runs after the purge, so that no remember-me token can log a browser straight back in.
func (u *unit) apiStep(ctx context.Context) error {
	urls := make([]string, 0, len(u.rplan.Nodes))
	for _, n := range u.rplan.Nodes {
		urls = append(urls, n.URL)
	}
	last := time.Time{}
	u.step(StepAPIStart, "ok", map[string]any{"users": len(u.journal.APIUsers), "nodes": len(urls)})
	res, err := u.o.seams.sessions.Invalidate(ctx, apimode.Options{
		Product: u.prod, BaseURLs: urls, Auth: u.auth, Users: u.journal.APIUsers, Client: u.o.HTTP,
		Concurrency: u.o.APIConcurrency, Stop: u.o.Stop,
		Progress: func(done, total int, rate float64, eta time.Duration) {
			if time.Since(last) > 500*time.Millisecond || done == total {
				last = time.Now()
				u.show(fmt.Sprintf("ended sessions of %d/%d user(s), %.0f/s, about %s left", done, total, rate, eta.Round(time.Second)))
			}
		},
	})
	u.report.Mode.Result = &res
	u.step("api", outcome(err), map[string]any{"users": res.Users, "ended": res.Ended, "not_found": len(res.NotFound),
		"failed": len(res.Failed), "not_done": len(res.NotDone), "requests": res.Requests, "p99_ms": res.P99MS})
	if err != nil {
		err = fmt.Errorf("%s: end sessions through the API: %w", u.name, err)
		if reauth.CodeOf(err) == reauth.ExitRefused { // not "nothing changed": the tokens are purged
			err = reauth.WithCode(err, reauth.ExitFailed)
		}
		return reauth.WithHint(err, "the tokens are purged; run again with --resume to end the remaining sessions (it is safe to repeat)")
	}
	if len(res.Failed) > 0 {
		return reauth.Failed("run again with --resume to retry them (ending a session twice is harmless)",
			"%s: the sessions of %d user(s) could not be ended (first: %s: %s)", u.name, len(res.Failed), res.Failed[0].User, res.Failed[0].Error)
	}
	u.journal.Phase = PhaseSessionsEnded
	return u.journal.save(u.o.Now())
}

func outcome(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}
