package sandbox

import (
	"context"
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/reauth/reauth/atlassian"
)

// TestProductSessions is the core scenario, per product, on the embedded database:
// remember-me survives a restart and a database delete alone, but not both.
func TestProductSessions(t *testing.T) { productSessions(t, "sqlite") }

// TestProductSessionsPostgres and ...MariaDB run the same scenario on the real servers, where
// the tables get each engine's real column types.
func TestProductSessionsPostgres(t *testing.T) { productSessions(t, "postgres") }
func TestProductSessionsMariaDB(t *testing.T)  { productSessions(t, "mariadb") }

func productSessions(t *testing.T, engine string) {
	for _, id := range []atlassian.ProductID{atlassian.Jira, atlassian.Confluence, atlassian.Bitbucket, atlassian.Bamboo, atlassian.Fisheye} {
		t.Run(string(id), func(t *testing.T) {
			t.Parallel()
			c := up(t, Options{Product: id, Nodes: 1, Users: 2, DB: testDB(t, engine)})
			p, _ := atlassian.Lookup(string(id))
			m, _ := modelFor(p)
			db, _ := openDB(t, c)
			url := c.Nodes()[0].URL

			// Log in with and without remember-me.
			a := login(t, id, url, "user001", true)
			b := login(t, id, url, "user002", false)
			checkCookies(t, p, db, m, a, true)
			checkCookies(t, p, db, m, b, false)
			if got := whoami(t, a, url); got != "user001" {
				t.Fatalf("remember-me browser: whoami %q", got)
			}
			if got := whoami(t, b, url); got != "user002" {
				t.Fatalf("plain browser: whoami %q", got)
			}
			// Up seeded two browsers with remember-me plus ours: three rows.
			if n := countRows(t, db, m.table); n != 3 {
				t.Fatalf("%s has %d rows, want 3 (2 seeded + 1)", m.table, n)
			}

			// A restart alone: the remember-me browser is logged straight back in, the other is not.
			restart(t, c, "node1")
			if got := whoami(t, a, url); got != "user001" {
				t.Errorf("after restart, remember-me browser: whoami %q, want user001 (silent re-login)", got)
			}
			if got := whoami(t, b, url); got != "" {
				t.Errorf("after restart, plain browser still logged in as %q", got)
			}

			// A database delete alone: sessions and the token cache keep everyone in.
			b = login(t, id, url, "user002", false)
			rememberOnly := onlyCookie(a, p.RememberMeCookie)
			if _, err := db.Exec("DELETE FROM " + m.table); err != nil {
				t.Fatal(err)
			}
			for name, br := range map[string]*Browser{"user001": a, "user002": b} {
				if got := whoami(t, br, url); got != name {
					t.Errorf("after a delete without restart, %s: whoami %q", name, got)
				}
			}
			if got := whoami(t, rememberOnly, url); got != "user001" {
				t.Errorf("after a delete without restart, remember-me cookie alone: whoami %q (the cache still holds it)", got)
			}

			// Delete and restart: nobody.
			restart(t, c, "node1")
			for name, br := range map[string]*Browser{"user001": a, "user002": b, "remember-only": rememberOnly} {
				if got := whoami(t, br, url); got != "" {
					t.Errorf("after delete and restart, %s still logged in as %q", name, got)
				}
			}
		})
	}
}

var hexRE = regexp.MustCompile(`^[0-9A-F]{32}$`)

// checkCookies checks the cookie names and value formats against the product's, and that the
// remember-me value points at a real row of the product's table.
func checkCookies(t *testing.T, p atlassian.Product, db dbQuerier, m model, b *Browser, remember bool) {
	t.Helper()
	var sess, rem string
	for _, c := range b.Cookies() {
		switch c.Name {
		case p.SessionCookie:
			sess = c.Value
			if !c.HTTPOnly {
				t.Errorf("%s is not HttpOnly", c.Name)
			}
		case p.RememberMeCookie:
			rem = c.Value
			if c.Expires.IsZero() {
				t.Errorf("%s is a session cookie; remember-me cookies persist", c.Name)
			}
		default:
			t.Errorf("unexpected cookie %s", c.Name)
		}
	}
	if !hexRE.MatchString(sess) {
		t.Errorf("session cookie %s = %q, want Tomcat-style 32 hex digits", p.SessionCookie, sess)
	}
	if !remember {
		if rem != "" {
			t.Errorf("remember-me cookie set without remember-me")
		}
		return
	}
	if rem == "" {
		t.Fatalf("no %s cookie", p.RememberMeCookie)
	}
	var key, secret string
	if p.RememberMeFormat == "base64(series:token)" {
		raw, err := base64.StdEncoding.DecodeString(rem)
		if err != nil {
			t.Fatalf("%s is not base64: %v", p.RememberMeCookie, err)
		}
		key, secret, _ = strings.Cut(string(raw), ":")
		var n int
		if err := db.QueryRow(rebind(engineOf(t, db), "SELECT COUNT(*) FROM sta_remember_me_token WHERE series = ? AND token = ? AND claimed = ?"), key, secret, false).Scan(&n); err != nil || n != 1 {
			t.Errorf("no sta_remember_me_token row for the cookie's series:token (n=%d, err=%v)", n, err)
		}
		return
	}
	key, secret, _ = strings.Cut(rem, ":")
	id, err := strconv.ParseInt(key, 10, 64)
	if err != nil {
		t.Fatalf("%s = %q, want <id>:<token>", p.RememberMeCookie, rem)
	}
	var tok string
	if err := db.QueryRow(rebind(engineOf(t, db), "SELECT token FROM "+m.table+" WHERE id = ?"), id).Scan(&tok); err != nil || tok != secret {
		t.Errorf("row %d of %s: token %q err %v, want the cookie's token", id, m.table, tok, err)
	}
}

func TestBrowserSaveLoad(t *testing.T) {
	c := up(t, Options{Product: atlassian.Jira, Nodes: 1, Users: 1})
	url := c.Nodes()[0].URL
	// The browser Up saved is still logged in after loading.
	b, err := LoadBrowser(c.BrowserFile(1))
	if err != nil {
		t.Fatal(err)
	}
	if got := whoami(t, b, url); got != "user001" {
		t.Fatalf("loaded browser: whoami %q", got)
	}
	// A wrong password is refused and leaves no cookie.
	nb := NewBrowser() // no Product: found through /sandbox/info
	if err := nb.Login(context.Background(), url, "user001", "wrong", true); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
	if len(nb.Cookies()) != 0 {
		t.Fatalf("failed login left cookies: %+v", nb.Cookies())
	}
	// Unauthenticated HTML page: a redirect to the login form.
	code, _ := get(t, url+"/secure/Dashboard.jspa")
	if code != 200 { // http.Get follows the 302 to the login page
		t.Fatalf("dashboard without login: %d", code)
	}
}
