package sandbox

import (
	"testing"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

// TestHomeDiscoverable: reauth's own discovery reads every home the sandbox writes, per product
// and engine, and finds the same database (the sandbox's config files are the products' formats).
func TestHomeDiscoverable(t *testing.T) {
	targets := []dbTarget{
		{Engine: reauth.SQLite, Name: "/var/sb/sandbox.db"},
		{Engine: reauth.Postgres, Host: "127.0.0.1", Port: 5433, Name: "jiradb", User: "jira", Password: "pw&<'\"x"},
		{Engine: reauth.MariaDB, Host: "127.0.0.1", Port: 3307, Name: "conf", User: "conf", Password: `back\slash`},
	}
	for _, id := range []atlassian.ProductID{atlassian.Jira, atlassian.Confluence, atlassian.Bitbucket, atlassian.Bamboo, atlassian.Fisheye} {
		for _, tg := range targets {
			t.Run(string(id)+"/"+string(tg.Engine), func(t *testing.T) {
				p, _ := atlassian.Lookup(string(id))
				home := t.TempDir()
				if _, err := writeHome(home, p, tg, DefaultVersion(id)); err != nil {
					t.Fatal(err)
				}
				d, err := atlassian.Discover(atlassian.DiscoverOptions{Product: id, Home: home})
				if err != nil {
					t.Fatalf("discover: %v", err)
				}
				got := d.Database
				if got.Engine != tg.Engine || got.Name != tg.Name || got.Host != tg.Host || got.Port != tg.Port || got.User != tg.User {
					t.Errorf("discovered %s, want %s %s:%d/%s as %s", got, tg.Engine, tg.Host, tg.Port, tg.Name, tg.User)
				}
				if got.Password.Reveal() != tg.Password {
					t.Errorf("password did not survive the config file's escaping")
				}
			})
		}
	}
}
