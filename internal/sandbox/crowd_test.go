package sandbox

import (
	"testing"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/cookiefile"
)

// TestCrowdSSO: a sandbox Crowd keeps users' SSO sessions in cwd_token beside the applications'
// tokens (which never log a browser in), and a Jira that trusts it logs a browser in from
// crowd.token_key alone. Deleting the Crowd rows is not enough while Crowd and Jira remember what
// they saw; restarting Crowd (its cache) and then Jira (its cache of Crowd's answers) ends it.
func TestCrowdSSO(t *testing.T) {
	crowd := up(t, Options{Product: atlassian.Crowd, Nodes: 1, Users: 2})
	cdb, _ := openDB(t, crowd)
	var apps, users int
	if err := cdb.QueryRow("SELECT COUNT(*) FROM cwd_token WHERE directory_id = -1").Scan(&apps); err != nil || apps != len(CrowdApplications) {
		t.Fatalf("application tokens: %d, %v", apps, err)
	}
	if err := cdb.QueryRow("SELECT COUNT(*) FROM cwd_token WHERE directory_id <> -1").Scan(&users); err != nil || users != 2 {
		t.Fatalf("user sessions: %d, %v", users, err)
	}
	if n := countRows(t, cdb, "cwd_remember_me_token"); n != 2 {
		t.Fatalf("remember-me rows: %d", n)
	}
	curl := crowd.Nodes()[0].URL
	// An application's token is no browser's session.
	var appHash string
	if err := cdb.QueryRow("SELECT random_hash FROM cwd_token WHERE directory_id = -1 AND entity_name = 'jira'").Scan(&appHash); err != nil {
		t.Fatal(err)
	}
	appBrowser := newBrowser([]cookiefile.Cookie{{Domain: "127.0.0.1", Path: "/", Name: "crowd.token_key", Value: appHash}})
	appBrowser.Product = atlassian.Crowd
	if got := whoami(t, appBrowser, curl); got != "" {
		t.Fatalf("an application token logs a browser in to Crowd as %q", got)
	}

	jira := up(t, Options{Product: atlassian.Jira, Nodes: 1, Users: 2, RememberFraction: -1, CrowdSSO: []string{curl}})
	jurl := jira.Nodes()[0].URL
	b := login(t, atlassian.Jira, jurl, "user002", false)
	sso := onlyCookie(b, "crowd.token_key")
	if got := whoami(t, sso, jurl); got != "user002" {
		t.Fatalf("jira from crowd.token_key alone: %q", got)
	}
	sso.Product = atlassian.Crowd
	if got := whoami(t, sso, curl); got != "user002" {
		t.Fatalf("crowd from its own cookie: %q", got)
	}
	sso.Product = atlassian.Jira
	if _, err := cdb.Exec("DELETE FROM cwd_token WHERE directory_id <> -1"); err != nil {
		t.Fatal(err)
	}
	restart(t, jira, "node1") // Jira asks Crowd again; Crowd still has the token cached
	if got := whoami(t, sso, jurl); got != "user002" {
		t.Fatalf("after the delete and a Jira restart, Crowd's cache still vouches: %q", got)
	}
	restart(t, crowd, "node1")
	if got := whoami(t, sso, jurl); got != "user002" {
		t.Fatalf("Jira keeps what Crowd said until it restarts: %q", got)
	}
	restart(t, jira, "node1")
	if got := whoami(t, sso, jurl); got != "" {
		t.Fatalf("after Crowd's and then Jira's restart, still logged in as %q", got)
	}
	if n := countRows(t, cdb, "cwd_token"); n != len(CrowdApplications) {
		t.Fatalf("cwd_token has %d rows, want the %d application tokens", n, len(CrowdApplications))
	}
}
