package sandbox

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth/atlassian"
)

func TestPersistence(t *testing.T) {
	for _, on := range []bool{false, true} {
		name := map[bool]string{false: "off", true: "on"}[on]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := up(t, Options{Product: atlassian.Jira, Nodes: 1, Users: 1, Persistence: on})
			n := c.Nodes()[0]
			xml, err := os.ReadFile(filepath.Join(n.Dir, "conf", "server.xml"))
			if err != nil {
				t.Fatal(err)
			}
			want := map[bool]string{false: `<Manager pathname=""/>`, true: `<Manager pathname="SESSIONS.ser"/>`}[on]
			if !strings.Contains(string(xml), want) {
				t.Errorf("server.xml lacks %s", want)
			}
			b := login(t, atlassian.Jira, n.URL, "user001", false)
			ctx := context.Background()
			if err := c.StopNode(ctx, "node1"); err != nil {
				t.Fatal(err)
			}
			ser := sessionsFile(c.Dir(), "node1")
			if _, err := os.Stat(ser); (err == nil) != on {
				t.Errorf("SESSIONS.ser exists while down = %v, want %v", err == nil, on)
			}
			if err := c.StartNode(ctx, "node1"); err != nil {
				t.Fatal(err)
			}
			if err := c.WaitRunning(ctx, 20*time.Second); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(ser); err == nil {
				t.Error("SESSIONS.ser still there after start: Tomcat deletes it once loaded")
			}
			got := whoami(t, b, n.URL)
			if on && got != "user001" {
				t.Errorf("persistence on: session lost across restart (whoami %q)", got)
			}
			if !on && got != "" {
				t.Errorf("persistence off: session survived a restart as %q", got)
			}
		})
	}
}

// TestClusterCacheAndSessionAPI: a token made on node1 works on node2 at once (the cache reads
// through to the shared table, as on a real cluster); the admin session API ends a user's sessions
// on every node and deletes the user's tokens.
func TestClusterCacheAndSessionAPI(t *testing.T) {
	c := up(t, Options{Product: atlassian.Jira, Nodes: 2, Users: 3, RememberFraction: -1})
	n1, n2 := c.Nodes()[0].URL, c.Nodes()[1].URL
	db, _ := openDB(t, c)
	a := login(t, atlassian.Jira, n1, "user001", true)
	remember := onlyCookie(a, "seraph.rememberme.cookie")
	if got := whoami(t, remember, n2); got != "user001" {
		t.Fatalf("node2 rejected a remember-me cookie issued on node1 (whoami %q): a cluster shares one token table", got)
	}
	// Odd users have Jira 8+ keys (JIRAUSER...), even ones their name: both resolve.
	var ref string
	if err := db.QueryRow("SELECT username FROM remembermetoken").Scan(&ref); err != nil || ref != "JIRAUSER10001" {
		t.Errorf("remembermetoken.username = %q (%v), want the user key JIRAUSER10001", ref, err)
	}

	api := "/rest/api/2/user/session/"
	token, err := c.AdminToken()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, user, basic, bearer string
		want                      int
	}{
		{"no credentials", "user001", "", "", 401},
		{"wrong password", "user001", "admin:nope", "", 401},
		{"not an admin", "user001", "user002:" + UserPassword, "", 403},
		{"unknown user", "nobody", "admin:admin", "", 404},
		{"bad bearer", "user001", "", "xyz", 401},
	}
	for _, tt := range tests {
		if code := deleteSession(t, n1+api+tt.user, tt.basic, tt.bearer); code != tt.want {
			t.Errorf("%s: HTTP %d, want %d", tt.name, code, tt.want)
		}
	}
	if got := whoami(t, a, n1); got != "user001" {
		t.Fatalf("refused calls must change nothing; whoami %q", got)
	}
	if code := deleteSession(t, n1+api+"user001", "", token); code != http.StatusNoContent {
		t.Fatalf("admin bearer: HTTP %d, want 204", code)
	}
	if n := countRows(t, db, "remembermetoken"); n != 0 {
		t.Errorf("%d token rows left for user001", n)
	}
	if got := whoami(t, a, n1); got != "" {
		t.Errorf("node1 still knows user001 after the session API")
	}
	// node2 learns it through the shared database within a poll or two.
	deadline := time.Now().Add(10 * time.Second)
	for whoami(t, remember, n2) != "" {
		if time.Now().After(deadline) {
			t.Fatal("node2 never ended user001's sessions")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func deleteSession(t *testing.T, url, basic, bearer string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, url, nil)
	if u, p, ok := strings.Cut(basic, ":"); ok {
		req.SetBasicAuth(u, p)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestSessionAPIOnlyFromItsVersion(t *testing.T) {
	c := up(t, Options{Product: atlassian.Jira, Nodes: 1, Version: "9.10.2"})
	if code := deleteSession(t, c.Nodes()[0].URL+"/rest/api/2/user/session/admin", "admin:admin", ""); code == http.StatusNoContent {
		t.Fatal("Jira 9.10 has no session API, but the sandbox served it")
	}
	code, body := get(t, c.Nodes()[0].URL+"/rest/api/2/serverInfo")
	if code != 200 || !strings.Contains(string(body), `"version":"9.10.2"`) || !strings.Contains(string(body), `"versionNumbers":[9,10,2]`) {
		t.Errorf("serverInfo: %d %s", code, body)
	}
}

// TestRenamedRememberMeCookie: the node takes the cookie name from its seraph-config.xml, so a
// sandbox can show an instance whose admin renamed it (an UNCONFIRMED-facts case reauth must read).
func TestRenamedRememberMeCookie(t *testing.T) {
	c := up(t, Options{Product: atlassian.Confluence, Nodes: 1})
	p, _ := atlassian.Lookup("confluence")
	path := filepath.Join(c.Nodes()[0].Dir, filepath.FromSlash(p.SeraphConfig))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if name, err := seraphCookieName(c.Nodes()[0].Dir, p); err != nil || name != "seraph.confluence" {
		t.Fatalf("shipped seraph-config.xml: %q %v", name, err)
	}
	os.WriteFile(path, []byte(strings.Replace(string(b), ">seraph.confluence<", ">corp.remember<", 1)), 0o644)
	restart(t, c, "node1")
	br := NewBrowser()
	if err := br.Login(context.Background(), c.Nodes()[0].URL, "admin", "admin", true); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ck := range br.Cookies() {
		names = append(names, ck.Name)
	}
	if strings.Join(names, ",") != "JSESSIONID,corp.remember" {
		t.Errorf("cookies %v, want JSESSIONID and corp.remember", names)
	}
}

func TestBambooInfoAndSessionAPI(t *testing.T) {
	c := up(t, Options{Product: atlassian.Bamboo, Nodes: 1, Users: 1, AdminPassword: "adm1n"})
	url := c.Nodes()[0].URL
	code, body := get(t, url+"/rest/api/latest/info")
	if code != 200 || !strings.Contains(string(body), `"version":"9.6.0"`) {
		t.Errorf("info: %d %s", code, body)
	}
	b, _ := LoadBrowser(c.BrowserFile(1))
	if whoami(t, b, url) != "user001" {
		t.Fatal("seeded browser not logged in")
	}
	if code := deleteSession(t, url+"/rest/admin/latest/session/user001", "admin:admin", ""); code != 401 {
		t.Errorf("default password after AdminPassword was set: %d, want 401", code)
	}
	if code := deleteSession(t, url+"/rest/admin/latest/session/user001", "admin:adm1n", ""); code != 204 {
		t.Errorf("admin: %d, want 204", code)
	}
	if got := whoami(t, b, url); got != "" {
		t.Errorf("still logged in as %q after the session API", got)
	}
}

// TestLogsHoldNoSecrets: the node log records logins and requests, never cookie values.
func TestLogsHoldNoSecrets(t *testing.T) {
	c := up(t, Options{Product: atlassian.Bitbucket, Nodes: 1, Users: 2})
	b, _ := LoadBrowser(c.BrowserFile(1))
	whoami(t, b, c.Nodes()[0].URL)
	log, err := os.ReadFile(filepath.Join(c.Nodes()[0].Dir, "node.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "login user001 remember-me=true") {
		t.Errorf("log lacks the login:\n%s", log)
	}
	for _, ck := range b.Cookies() {
		if strings.Contains(string(log), ck.Value) {
			t.Errorf("node.log holds the value of cookie %s", ck.Name)
		}
	}
}
