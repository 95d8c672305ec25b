package runbook

import (
	"strings"
	"testing"

	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/verify"
)

// A cookie that still logs in is blamed on what the run knows keeps it alive: Crowd SSO for a
// crowd.token_key on an application (Crowd absent, or the application's cache of Crowd's answer),
// Hazelcast for a Bitbucket session, and Tomcat's persistence (or the ender's own cause) only
// otherwise.
func TestSurvivorNextNamesTheCause(t *testing.T) {
	unitFor := func(id string, sso bool) *unit {
		u := testUnit(t, id, sso)
		u.inv = &inventory.Product{}
		u.o = &Options{Inventory: &inventory.Inventory{Path: "/etc/reauth.yaml"}}
		return u
	}
	crowdCookie := verify.Outcome{Cookie: "crowd.token_key#1a2b3c4d", Accepted: true}
	session := verify.Outcome{Cookie: "JSESSIONID#1a2b3c4d", Accepted: true}
	rememberMe := verify.Outcome{Cookie: "seraph.rememberme.cookie#1a2b3c4d", Accepted: true}

	notCovered := unitFor("jira", true)
	covered := unitFor("jira", true)
	covered.report.SSO.Covered, covered.report.SSO.Cache = true, "Jira caches a Crowd authentication for up to 15 minutes"
	bitbucket := unitFor("bitbucket", false)
	bitbucket.report.Sessions = "node-local HTTP sessions: hazelcast.http.sessions=local by default (BSERV-13407)"
	api := unitFor("jira", true)
	api.ender = apiEnder{}
	for _, tc := range []struct {
		name      string
		u         *unit
		source    string
		out       verify.Outcome
		want, not string
	}{
		{"crowd cookie, crowd absent", notCovered, SourceJar, crowdCookie, "Crowd is not in this run", "remember-me"},
		{"crowd cookie, cache", covered, SourceJar, crowdCookie, "caches a Crowd authentication for up to 15 minutes", "Tomcat"},
		{"crowd cookie, api mode", api, SourceJar, crowdCookie, "Crowd SSO cookie", "honours the remember-me token"},
		{"bitbucket session", bitbucket, SourceSession, session, "Hazelcast map", "Tomcat"},
		{"jira session", unitFor("jira", false), SourceSession, session, "Tomcat session persistence", "Hazelcast"},
		{"remember-me, api mode", api, SourceMinted, rememberMe, "honours the remember-me token", "Crowd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.u.failure("node1", tc.source, "alice", tc.out).Next
			if !strings.Contains(got, tc.want) || strings.Contains(got, tc.not) {
				t.Fatalf("next: %q; want %q, not %q", got, tc.want, tc.not)
			}
		})
	}
}
