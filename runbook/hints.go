package runbook

import (
	"fmt"
	"strings"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/verify"
)

// survivorNext is the next step for a cookie that still logs in after the run: it names the cause
// the run knows of (Crowd SSO for a Crowd cookie, Hazelcast for a Bitbucket session) before the
// generic one of the way the sessions were ended, so that the operator is not sent after
// Tomcat's persistence or the remember-me cache when neither is what kept the browser in.
func (u *unit) survivorNext(node, source string, out verify.Outcome) string {
	again := fmt.Sprintf("reauth restart --config %s --product %s", u.file().Path, u.prod.ID)
	if sso := u.report.SSO; sso != nil && isSSOCookie(out.Cookie) {
		if !sso.Covered {
			return fmt.Sprintf("a Crowd SSO cookie still logs in to %s: Crowd is not in this run, so its session lives; "+
				"end the users' sessions in Crowd (or add product: crowd to the inventory and run both)", u.prod.Name)
		}
		cache := sso.Cache
		if cache == "" {
			cache = u.prod.Name + " may cache Crowd's answer"
		}
		return fmt.Sprintf("a Crowd SSO cookie still logs in to %s although Crowd's sessions ended first: %s; then: %s", u.prod.Name, cache, again)
	}
	if source != SourceSession {
		return u.ending().next(u)
	}
	if u.prod.ID == atlassian.Bitbucket {
		read := u.report.Sessions
		if read == "" {
			read = "reauth read no setting"
		}
		return fmt.Sprintf("node %s still holds a session started before the run: Bitbucket keeps HTTP sessions in the cluster's "+
			"Hazelcast map when %s is sticky or replicated (%s), and the map outlives a rolling restart; run with "+
			"--restart-strategy full (or set hazelcast_http_sessions in the inventory to what the nodes use), then: %s",
			node, atlassian.HazelcastSessionsKey, read, again)
	}
	return fmt.Sprintf("node %s still holds a session started before the run: its restart did not clear its sessions "+
		"(Tomcat session persistence? see --clear-persisted-sessions), then: %s", node, again)
}

// isSSOCookie reports whether a replayed cookie, as verify.Describe names it, is Crowd's SSO
// cookie (the catalog's).
func isSSOCookie(described string) bool {
	crowd, err := atlassian.Lookup(string(atlassian.Crowd))
	name, _, _ := strings.Cut(described, "#")
	return err == nil && crowd.SSOCookie != "" && name == crowd.SSOCookie
}
