package sandbox

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth/atlassian"
)

// bearer replays a raw token on path of url: the status.
func bearer(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func rawOf(t *testing.T, c SeededCredential) string {
	t.Helper()
	b, err := os.ReadFile(c.RawFile)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestBearerTokensAgainstTheTable: nodes check a PAT (Bitbucket: an HTTP token) against its row
// on every request: accepted on every node, anonymous and forged tokens get 401 at the auth-only
// endpoint, and a deleted row is rejected at once everywhere, except on a node with the pat-cache
// fault, which keeps accepting it across its own restart.
func TestBearerTokensAgainstTheTable(t *testing.T) {
	for _, tc := range []struct {
		engine string
		p      atlassian.ProductID
	}{{"postgres", atlassian.Jira}, {"mariadb", atlassian.Confluence}, {"postgres", atlassian.Bitbucket}, {"sqlite", atlassian.Jira}} {
		t.Run(tc.engine+"/"+string(tc.p), func(t *testing.T) {
			t.Parallel()
			c := up(t, Options{Product: tc.p, Nodes: 2, Users: 3, DB: testDB(t, tc.engine)})
			seeded, err := c.SeededCredentials()
			if err != nil {
				t.Fatal(err)
			}
			var tok SeededCredential
			intruders := 0
			for _, s := range seeded.Credentials {
				if s.Intruder {
					intruders++
					if s.Created == nil || !s.Created.After(seeded.WindowStart) {
						t.Errorf("intruder's %s created %v, before the window %s", s.Kind, s.Created, seeded.WindowStart)
					}
					if s.RawFile != "" && s.Owner == "admin" {
						tok = s
					}
				} else if s.Created != nil && s.Created.After(seeded.WindowStart) {
					t.Errorf("%s %s created inside the window without being the intruder's", s.Kind, s.Name)
				}
			}
			if intruders < 2 || tok.RawFile == "" {
				t.Fatalf("seeded %+v: want the intruder's credentials, one a token of admin", seeded)
			}
			raw := rawOf(t, tok)
			cat, _ := atlassian.CredentialsOf(tc.p)
			path := strings.Replace(cat.AuthPath, "{user}", "admin", 1)
			nodes := c.Nodes()
			for _, n := range nodes {
				if code := bearer(t, n.URL+path, raw); code != 200 {
					t.Errorf("%s: the intruder's token answered %d, want 200", n.Name, code)
				}
				if code := bearer(t, n.URL+path, ""); code != 401 {
					t.Errorf("%s: anonymous answered %d, want 401 (an auth-only endpoint)", n.Name, code)
				}
				forged := raw[:len(raw)-4] + "AAA="
				if code := bearer(t, n.URL+path, forged); code != 401 {
					t.Errorf("%s: a forged secret answered %d", n.Name, code)
				}
			}
			if err := c.SetFault(nodes[1].Name, FaultPATCache); err != nil {
				t.Fatal(err)
			}
			if code := bearer(t, nodes[1].URL+path, raw); code != 200 { // cached from now on
				t.Fatalf("pat-cache node: %d", code)
			}
			db, _ := openDB(t, c)
			table, col := "AO_81F455_PERSONAL_TOKEN", "ID"
			if tc.p == atlassian.Bitbucket {
				table, col = "AO_E5A814_ACCESS_TOKEN", "TOKEN_ID"
			}
			e := engineOf(t, db)
			if _, err := db.Exec(rebind(e, "DELETE FROM "+aoQuote(e, table)+" WHERE "+aoQuote(e, col)+" = ?"), tok.ID); err != nil {
				t.Fatal(err)
			}
			if code := bearer(t, nodes[0].URL+path, raw); code != 401 {
				t.Errorf("%s: a deleted token answered %d, want 401 at once (no cache)", nodes[0].Name, code)
			}
			restart(t, c, nodes[1].Name)
			if code := bearer(t, nodes[1].URL+path, raw); code != 200 {
				t.Errorf("pat-cache node after its restart: %d, want the deleted token still accepted", code)
			}
			for _, n := range nodes {
				logs, _ := os.ReadFile(filepath.Join(n.Dir, "node.log"))
				cache, _ := os.ReadFile(patCacheFile(c.Dir(), n.Name))
				if len(logs) == 0 || strings.Contains(string(logs), raw) || strings.Contains(string(cache), raw) {
					t.Errorf("%s: the node's log (%d bytes) or its pat cache holds the raw token", n.Name, len(logs))
				}
			}
		})
	}
}
