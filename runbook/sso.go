package runbook

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/termsafe"
	"github.com/reauth/reauth/rollout"
)

// Crowd SSO. An application that signs its users in through Crowd (the crowd.token_key cookie)
// logs a browser straight back in while its Crowd session lives: purging the application's
// remember-me tokens and restarting it does not end that. So, with Crowd in the run, Crowd's
// sessions end first; without it, the application gets a warning naming the gap, and its report
// says that SSO was not covered.

// jiraCrowdCacheMinutes: Jira caches a Crowd SSO authentication for up to 15 minutes (Jira Data
// Center KB "Invalidating user sessions"); crowd.properties' session.validationinterval, where
// reauth can read it, says how often the application asks Crowd again.
const jiraCrowdCacheMinutes = 15

// SSOReport says whether an application signs its users in through Crowd SSO, how reauth found
// out, and whether this run ends those sessions. Its JSON is part of the report.
type SSOReport struct {
	Provider   string `json:"provider"`    // "crowd"
	DetectedBy string `json:"detected_by"` // the file and setting, or "inventory (sso: crowd)"
	// Covered: Crowd is in this run and its users' sessions end before this application's.
	// Without it, this application's "verified" says nothing about SSO.
	Covered bool   `json:"covered"`
	Why     string `json:"why"`
	// Cache is the delay after which the application notices that a Crowd session ended, where
	// one applies ("" where none is known).
	Cache string `json:"cache,omitempty"`
}

// Summary is one line for the plan and the report.
func (s *SSOReport) Summary() string {
	out := "signs in through Crowd SSO (" + s.DetectedBy + "): " + s.Why
	if s.Cache != "" {
		out += "; " + s.Cache
	}
	return out
}

// mustPrecede reports whether unit a must end its sessions before unit b starts, and why: Crowd
// before every application that trusts Crowd SSO. orderUnits puts Crowd first; the scheduler
// applies it as crowdSessionsFirst (schedule.go).
func mustPrecede(a, b *unit) (bool, string) {
	if a.prod.ID != atlassian.Crowd || b.prod.ID == atlassian.Crowd || b.report.SSO == nil || b.report.SSO.Provider != string(atlassian.Crowd) {
		return false, ""
	}
	return true, fmt.Sprintf("%s signs in through Crowd SSO: while a Crowd session lives, %s logs its browser straight back in and starts a new session, so Crowd's sessions end first",
		b.prod.Name, b.prod.Name)
}

// orderUnits moves each unit before the first unit it must precede, keeping the inventory's order
// otherwise.
func orderUnits(units []*unit) []*unit {
	out := append([]*unit(nil), units...)
	for i := 0; i < len(out); i++ {
		for j := 0; j < i; j++ {
			if ok, _ := mustPrecede(out[i], out[j]); ok {
				u := out[i]
				copy(out[j+1:i+1], out[j:i])
				out[j] = u
				break
			}
		}
	}
	return out
}

// linkSSO finds the applications that trust Crowd SSO and says, for each, whether this run covers
// it. It only reads (the nodes' install files).
func linkSSO(ctx context.Context, units []*unit) {
	var crowd *unit
	for _, u := range units {
		if u.prod.ID == atlassian.Crowd {
			crowd = u
		}
	}
	for _, u := range units {
		if u.prod.ID == atlassian.Crowd {
			continue
		}
		by, interval, known := u.detectSSO(ctx)
		if by == "" {
			continue
		}
		s := &SSOReport{Provider: string(atlassian.Crowd), DetectedBy: by, Covered: crowd != nil}
		if s.Covered {
			_, s.Why = mustPrecede(crowd, &unit{prod: u.prod, report: ProductReport{SSO: s}})
			if u.o.CookiesFile != "" { // the proof replays the browser's Crowd SSO cookie here too
				if jar, err := loadJar(u.o.CookiesFile, u.prod, crowd.prod.SSOCookie); err == nil {
					u.jar = jar
				}
			}
		} else {
			s.Why = "Crowd is not in this run: its users' Crowd sessions (crowd.token_key) stay valid and log them straight back in to " +
				u.prod.Name + "; this run's proof does not cover SSO"
			u.report.Warnings = append(u.report.Warnings, fmt.Sprintf("%s signs in through Crowd SSO (%s), and Crowd is not in this run: "+
				"a browser holding a Crowd session is logged straight back in. Add Crowd to the inventory (product: crowd) and run both, "+
				"or end the users' sessions in Crowd; set sso: none on %s if it does not use Crowd SSO", u.prod.Name, by, u.prod.ID))
		}
		switch {
		case u.prod.ID == atlassian.Jira && known:
			s.Cache = fmt.Sprintf("Jira caches a Crowd authentication (up to %d minutes, Jira DC KB \"Invalidating user sessions\"; crowd.properties session.validationinterval = %d min here): "+
				"a restart of Jira clears it, the session API may not", jiraCrowdCacheMinutes, interval)
		case u.prod.ID == atlassian.Jira:
			s.Cache = fmt.Sprintf("Jira caches a Crowd authentication for up to %d minutes (Jira DC KB \"Invalidating user sessions\"): "+
				"a restart of Jira clears it, the session API may not", jiraCrowdCacheMinutes)
		case known && interval > 0:
			s.Cache = fmt.Sprintf("%s asks Crowd again every %d minute(s) (crowd.properties session.validationinterval): a restart clears what it cached",
				u.prod.Name, interval)
		}
		u.report.SSO = s
	}
	if crowd != nil {
		var apps []string
		for _, u := range units {
			if ok, _ := mustPrecede(crowd, u); ok {
				apps = append(apps, u.prod.Name)
			}
		}
		if len(apps) > 0 {
			crowd.ssoApps = apps
		}
	}
}

// detectSSO says how this application is known to trust Crowd SSO ("" when it is not): the
// inventory's sso: key, else the first node install whose seraph-config.xml names a Crowd SSO
// authenticator or which holds a crowd.properties. interval is crowd.properties'
// session.validationinterval where it could be read.
func (u *unit) detectSSO(ctx context.Context) (by string, interval int, known bool) {
	switch u.inv.SSO {
	case "none":
		return "", 0, false
	case string(atlassian.Crowd):
		by = "inventory (sso: crowd)"
	}
	for _, n := range u.rplan.Nodes {
		fa, ok := n.Restarter.(rollout.FileAccess)
		if !ok || n.Install == "" || u.prod.SeraphConfig == "" {
			continue
		}
		read := func(rel string) ([]byte, string, bool) {
			p := path.Join(n.Install, rel)
			b, err := fa.ReadFile(ctx, p)
			return b, p, err == nil
		}
		if by == "" {
			if b, p, ok := read(u.prod.SeraphConfig); ok {
				if c, err := atlassian.SeraphAuthenticator(b); err == nil && atlassian.IsCrowdSSOAuthenticator(c) {
					by = p + ": authenticator " + c
				}
			}
		}
		b, p, ok := read(u.prod.CrowdProperties())
		if ok && by == "" {
			by = p + " exists"
		}
		if ok && !known {
			interval, known = atlassian.CrowdValidationInterval(b)
		}
		if by != "" && known {
			break
		}
	}
	return by, interval, known
}

// printSSO shows, in the plan, what Crowd SSO means for this product.
func (u *unit) printSSO(w io.Writer) {
	if s := u.report.SSO; s != nil {
		fmt.Fprintf(w, "   sso        %s\n", termsafe.Text(s.Summary()))
	}
	if len(u.ssoApps) > 0 {
		fmt.Fprintf(w, "   order      first: %s sign(s) in through Crowd SSO, and a live Crowd session would log a browser straight back in there\n",
			strings.Join(u.ssoApps, ", "))
	}
}

// notCovered is what this run does not touch: the fixed list, with Crowd SSO said precisely.
func notCovered(units []*unit) []string {
	var out []string
	crowdIn := false
	var gaps []string
	for _, u := range units {
		crowdIn = crowdIn || u.prod.ID == atlassian.Crowd
		if s := u.report.SSO; s != nil && !s.Covered {
			gaps = append(gaps, string(u.prod.ID))
		}
	}
	idp, known := idpNotCovered(units)
	for _, n := range NotCovered {
		if n == idpGeneric && known {
			if idp == "" {
				continue // SSO is off everywhere, or every product's hook ended the IdP's sessions
			}
			n = idp
		}
		if strings.HasPrefix(n, "Crowd SSO sessions") {
			switch {
			case len(gaps) > 0:
				n = "Crowd SSO sessions (crowd.token_key) of " + strings.Join(gaps, ", ") + ": these sign in through Crowd, and Crowd is not in this run"
			case crowdIn:
				continue // Crowd's users' sessions are ended by this run, before the applications'
			default:
				n = "Crowd SSO sessions (crowd.token_key): Crowd is not in this run (no application here was found to use it)"
			}
		}
		out = append(out, n)
	}
	return out
}

// ssoNotCovered lists the products whose Crowd SSO this run does not cover.
func ssoNotCovered(units []*unit) []string {
	var out []string
	for _, u := range units {
		if s := u.report.SSO; s != nil && !s.Covered {
			out = append(out, string(u.prod.ID))
		}
	}
	return out
}
