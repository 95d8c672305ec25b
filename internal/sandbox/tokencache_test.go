package sandbox

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/reauth/reauth/atlassian"
)

// A token deleted from the table stays valid on every node that cached it, until that node
// restarts; with the fault keep-token-cache the node's cache survives the restart.
func TestTokenCacheDeletesUnseenUntilRestart(t *testing.T) {
	c := up(t, Options{Product: atlassian.Jira, Nodes: 2, Users: 2, RememberFraction: -1})
	n1, n2 := c.Nodes()[0].URL, c.Nodes()[1].URL
	db, _ := openDB(t, c)
	remember := onlyCookie(login(t, atlassian.Jira, n1, "user001", true), "seraph.rememberme.cookie")
	if got := whoami(t, onlyCookie(remember, "seraph.rememberme.cookie"), n2); got != "user001" { // read through: node2 caches it now
		t.Fatalf("node2: whoami %q, want user001", got)
	}
	if err := c.SetFault("node1", FaultKeepTokenCache); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("DELETE FROM remembermetoken"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{n1, n2} {
		if got := whoami(t, onlyCookie(remember, "seraph.rememberme.cookie"), u); got != "user001" {
			t.Fatalf("%s forgot a cached token before its restart (whoami %q)", u, got)
		}
	}
	restart(t, c, "node2")
	if got := whoami(t, onlyCookie(remember, "seraph.rememberme.cookie"), n2); got != "" {
		t.Fatalf("node2 accepts a deleted token after its restart, as %q", got)
	}
	restart(t, c, "node1")
	if got := whoami(t, onlyCookie(remember, "seraph.rememberme.cookie"), n1); got != "user001" {
		t.Fatalf("node1 with keep-token-cache: whoami %q after restart, want user001", got)
	}
	if err := c.SetFault("node1", FaultNone); err != nil {
		t.Fatal(err)
	}
	restart(t, c, "node1")
	if got := whoami(t, onlyCookie(remember, "seraph.rememberme.cookie"), n1); got != "" {
		t.Fatalf("node1 without the fault still accepts the deleted token, as %q", got)
	}
}

// With APIKeepsRememberMe the session API ends sessions but the rows and cached tokens stay.
func TestSessionAPIKeepsRememberMe(t *testing.T) {
	c := up(t, Options{Product: atlassian.Jira, Nodes: 2, Users: 2, RememberFraction: -1, APIKeepsRememberMe: true})
	n1, n2 := c.Nodes()[0].URL, c.Nodes()[1].URL
	db, _ := openDB(t, c)
	b := login(t, atlassian.Jira, n1, "user001", true)
	remember := onlyCookie(b, "seraph.rememberme.cookie")
	session := onlyCookie(b, "JSESSIONID")
	if got := whoami(t, onlyCookie(remember, "seraph.rememberme.cookie"), n2); got != "user001" {
		t.Fatalf("node2: %q", got)
	}
	token, err := c.AdminToken()
	if err != nil {
		t.Fatal(err)
	}
	if code := deleteSession(t, n1+"/rest/api/2/user/session/user001", "", token); code != http.StatusNoContent {
		t.Fatalf("session API: HTTP %d", code)
	}
	if got := whoami(t, session, n1); got != "" {
		t.Fatalf("the session survived the session API (as %q)", got)
	}
	if n := countRows(t, db, "remembermetoken"); n != 1 {
		t.Fatalf("%d token rows, want the 1 the API leaves alone", n)
	}
	if _, err := db.Exec("DELETE FROM remembermetoken"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // two kill polls: the other node's kill must not drop the cache either
	for _, u := range []string{n1, n2} {
		if got := whoami(t, onlyCookie(remember, "seraph.rememberme.cookie"), u); got != "user001" {
			t.Fatalf("%s dropped the cached token (whoami %q): this API mode leaves remember-me alone", u, got)
		}
	}
}

// Per-node id banks: a token issued later on node1 gets a lower id than node2's earlier one.
func TestIDBanks(t *testing.T) {
	for _, tc := range []struct {
		b          idBank
		last, want int64
	}{
		{idBank{0, 2}, 0, 1}, {idBank{1, 2}, 0, 101}, {idBank{0, 2}, 100, 201}, {idBank{1, 2}, 200, 301},
		{idBank{0, 3}, 57, 58}, {idBank{2, 3}, 300, 501},
	} {
		if got := tc.b.next(tc.last); got != tc.want {
			t.Errorf("%+v.next(%d) = %d, want %d", tc.b, tc.last, got, tc.want)
		}
	}
	c := up(t, Options{Product: atlassian.Jira, Nodes: 2, Users: 2, RememberFraction: -1, IDBanks: true})
	db, _ := openDB(t, c)
	login(t, atlassian.Jira, c.Nodes()[1].URL, "user001", true)
	login(t, atlassian.Jira, c.Nodes()[0].URL, "user002", true)
	var id1, id2 int64
	if err := db.QueryRowContext(context.Background(), "SELECT MIN(id), MAX(id) FROM remembermetoken").Scan(&id1, &id2); err != nil {
		t.Fatal(err)
	}
	if id1 != 1 || id2 != 101 {
		t.Fatalf("ids %d, %d: want node1's bank (1) below node2's (101)", id1, id2)
	}
}
