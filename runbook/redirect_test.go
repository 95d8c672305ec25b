package runbook_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
)

// loginRedirector stands in front of a sandbox node on 127.0.0.1 like an SSO gateway that does not
// accept reauth's token: it forwards everything, except that the session API is redirected to the
// node's login page (which answers 200). With passProbe, the permission probe (a user that cannot
// exist) still reaches the node, so the redirects only start once the purge has run.
func loginRedirector(t *testing.T, node string, passProbe bool) string {
	t.Helper()
	target, err := url.Parse(node)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/rest/api/2/user/session/") &&
			!(passProbe && strings.Contains(r.URL.Path, "reauth-probe-")) {
			http.Redirect(w, r, "/login.jsp?os_destination="+url.QueryEscape(r.URL.Path), http.StatusFound)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// A node that redirects the session API to a 200 login page never counts as "ended": the run is
// refused before any change when the probe is redirected (exit 4, nothing deleted), and fails
// without "verified" when the redirects start after the purge.
func TestRunAPIModeRedirectToLoginPage(t *testing.T) {
	for _, tc := range []struct {
		name      string
		passProbe bool
		code      int
	}{
		{"probe redirected", false, 4},
		{"session calls redirected", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 2, Users: 6, Version: "9.12.0"})
			dir := t.TempDir()
			cfg := writeInventory(t, dir, product{c: c, admin: true})
			b, err := os.ReadFile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			inv := string(b)
			for _, n := range c.Nodes() {
				inv = strings.Replace(inv, "url: "+n.URL+"\n", "url: "+loginRedirector(t, n.URL, tc.passProbe)+"\n", 1)
			}
			if err := os.WriteFile(cfg, []byte(inv), 0o600); err != nil {
				t.Fatal(err)
			}
			stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json", "--mode", "api")
			if code != tc.code {
				t.Fatalf("run exited %d, want %d\n%s\n%s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout+stderr, "not authenticated as an administrator") {
				t.Errorf("the run does not say why:\n%s\n%s", stdout, stderr)
			}
			var r struct {
				Deleted  int64 `json:"deleted"`
				Verified bool  `json:"verified"`
				Products []struct {
					Mode struct {
						Result *struct {
							Ended int `json:"ended"`
						} `json:"result"`
					} `json:"mode"`
				} `json:"products"`
			}
			if err := json.Unmarshal([]byte(stdout), &r); err != nil {
				t.Fatalf("--json output is not one JSON object: %v\n%s", err, stdout)
			}
			if r.Verified {
				t.Errorf("verified: true after a redirect:\n%s", stdout)
			}
			for _, p := range r.Products {
				if p.Mode.Result != nil && p.Mode.Result.Ended != 0 {
					t.Errorf("ended %d: a redirect counted as ended:\n%s", p.Mode.Result.Ended, stdout)
				}
			}
			if tc.code == 4 && r.Deleted != 0 {
				t.Errorf("deleted %d tokens, but the run was refused before any change", r.Deleted)
			}
		})
	}
}
