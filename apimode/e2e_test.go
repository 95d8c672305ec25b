package apimode_test

// End-to-end tests on sandbox clusters: every node is a real OS process (the reauth binary),
// browsers log in through the real login form, and the session endpoint is called over HTTP.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/apimode"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/sqlstore"
)

func up(t *testing.T, o sandbox.Options) *sandbox.Cluster {
	t.Helper()
	return sandboxtest.Up(t, o)
}

func pids(t *testing.T, c *sandbox.Cluster) []int {
	t.Helper()
	st, err := c.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, s := range st {
		if s.PID == 0 || s.State != "RUNNING" {
			t.Fatalf("node %s is %s (pid %d)", s.Name, s.State, s.PID)
		}
		out = append(out, s.PID)
	}
	return out
}

func openStore(t *testing.T, c *sandbox.Cluster) *sqlstore.Store {
	t.Helper()
	p, _ := atlassian.Lookup(string(c.Product()))
	st, err := sqlstore.Open(context.Background(), reauth.Database{Engine: reauth.SQLite, Name: strings.TrimPrefix(c.DBURL(), "sqlite:")}, p, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func bearer(t *testing.T, c *sandbox.Cluster) apimode.Auth {
	t.Helper()
	tok, err := c.AdminToken()
	if err != nil {
		t.Fatal(err)
	}
	return apimode.Auth{User: "admin", Token: reauth.NewSecret(tok)}
}

// browserAt is one browser logged in at one node.
type browserAt struct {
	user, node, url string
	b               *sandbox.Browser
}

// loginEverywhere logs each user in on every node from a browser of its own, with remember-me.
func loginEverywhere(t *testing.T, c *sandbox.Cluster, n int) []browserAt {
	t.Helper()
	var out []browserAt
	for i := 1; i <= n; i++ {
		for _, nd := range c.Nodes() {
			b := sandbox.NewBrowser()
			b.Product = c.Product()
			if err := b.Login(context.Background(), nd.URL, sandbox.UserName(i), sandbox.UserPassword, i%2 == 1); err != nil {
				t.Fatal(err)
			}
			out = append(out, browserAt{sandbox.UserName(i), nd.Name, nd.URL, b})
		}
	}
	return out
}

func loggedIn(t *testing.T, b browserAt) bool {
	t.Helper()
	who, ok, err := b.b.WhoAmI(context.Background(), b.url)
	if err != nil {
		t.Fatalf("%s on %s: %v", b.user, b.node, err)
	}
	if ok && who != b.user {
		t.Fatalf("browser of %s is logged in as %s", b.user, who)
	}
	return ok
}

// waitOut polls until every browser of a user in gone is logged out (the other nodes apply a
// kill within ~200 ms through the shared database), or fails at the deadline.
func waitOut(t *testing.T, bs []browserAt, gone func(string) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var still []string
		for _, b := range bs {
			if gone(b.user) && loggedIn(t, b) {
				still = append(still, b.user+"@"+b.node)
			}
		}
		if len(still) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still logged in after the API run: %v", still)
		}
		time.Sleep(50 * time.Millisecond) // polling a remote state with a deadline
	}
}

func TestAPIModeLogsEveryoneOutWithoutRestart(t *testing.T) {
	c := up(t, sandbox.Options{Product: atlassian.Jira, Version: "9.12.0", Nodes: 3, Users: 6, RememberFraction: 0.5})
	ctx := context.Background()
	browsers := loginEverywhere(t, c, 6)
	for i := 1; i <= 6; i++ { // the browsers `sandbox up` logged in too
		b, err := sandbox.LoadBrowser(c.BrowserFile(i))
		if err != nil {
			t.Fatal(err)
		}
		b.Product = c.Product()
		nd := c.Nodes()[(i-1)%3]
		browsers = append(browsers, browserAt{sandbox.UserName(i), nd.Name, nd.URL, b})
	}
	for _, b := range browsers {
		if !loggedIn(t, b) {
			t.Fatalf("%s not logged in on %s before the run", b.user, b.node)
		}
	}
	before := pids(t, c)

	st := openStore(t, c)
	exclude := []string{"USER002", "admin"}
	users, err := st.SessionUsers(ctx, exclude)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 5 {
		t.Fatalf("session users %v, want the 6 users minus user002", users)
	}
	p, _ := atlassian.Lookup("jira")
	sup, err := apimode.Detect(ctx, nil, p, c.Nodes()[0].URL, bearer(t, c))
	if err != nil {
		t.Fatal(err)
	}
	useAPI, why := apimode.Decide("auto", sup, false)
	if !useAPI {
		t.Fatalf("auto chose a restart for Jira 9.12: %s", why)
	}
	// Tokens first (with a backup), then the sessions.
	pres, err := st.Purge(ctx, sqlstore.PurgeOptions{ExcludeUsers: exclude, BackupPath: filepath.Join(t.TempDir(), "b.jsonl.gz")})
	if err != nil {
		t.Fatal(err)
	}
	if pres.Deleted == 0 {
		t.Fatal("no token purged")
	}
	var urls []string
	for _, n := range c.Nodes() {
		urls = append(urls, n.URL)
	}
	res, err := apimode.Invalidate(ctx, apimode.Options{Product: p, BaseURLs: urls, Auth: bearer(t, c), Users: users})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ended != 5 || len(res.NotFound) != 0 {
		t.Fatalf("ended %d, not found %v", res.Ended, res.NotFound)
	}
	waitOut(t, browsers, func(u string) bool { return u != "user002" })
	for _, b := range browsers {
		if b.user == "user002" && !loggedIn(t, b) {
			t.Fatalf("excluded user002 was logged out on %s", b.node)
		}
	}
	if after := pids(t, c); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("node processes changed: %v -> %v (the API mode must not restart anything)", before, after)
	}
}

func TestDetectAndDecideOnSandboxes(t *testing.T) {
	tests := []struct {
		product atlassian.ProductID
		version string
		api     bool
	}{
		{atlassian.Jira, "9.11.0", true},
		{atlassian.Jira, "9.10.0", false},
		{atlassian.Confluence, "", false},
		{atlassian.Bamboo, "9.4.0", true},
	}
	for _, tc := range tests {
		t.Run(string(tc.product)+tc.version, func(t *testing.T) {
			c := up(t, sandbox.Options{Product: tc.product, Version: tc.version, Nodes: 1, RememberFraction: -1})
			p, _ := atlassian.Lookup(string(tc.product))
			sup, err := apimode.Detect(context.Background(), nil, p, c.Nodes()[0].URL, apimode.Auth{User: "admin", Password: reauth.NewSecret("admin")})
			if err != nil {
				t.Fatal(err)
			}
			useAPI, why := apimode.Decide("auto", sup, false)
			if useAPI != tc.api {
				t.Fatalf("auto: api=%v (%s), want %v", useAPI, why, tc.api)
			}
			if tc.api && sup.Version != tc.version {
				t.Fatalf("version %q, want %q", sup.Version, tc.version)
			}
			if !tc.api && reauth.CodeOf(apimode.CheckMode("api", sup, false)) != reauth.ExitRefused {
				t.Fatal("mode api on an unsupported product is not refused")
			}
			if tc.api { // the same node refuses wrong credentials before anything changes
				_, err := apimode.Detect(context.Background(), nil, p, c.Nodes()[0].URL, apimode.Auth{User: "admin", Password: reauth.NewSecret("wrong")})
				if reauth.CodeOf(err) != reauth.ExitRefused {
					t.Fatalf("wrong password: %v", err)
				}
			}
		})
	}
}

func TestBreakerStopsWhenTheProductStartsFailing(t *testing.T) {
	c := up(t, sandbox.Options{Product: atlassian.Jira, Version: "9.12.0", Nodes: 1, Users: 30})
	node := c.Nodes()[0]
	target, _ := url.Parse(node.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	var deletes atomic.Int64
	const healthy = 8
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete && deletes.Add(1) > healthy {
			http.Error(w, "java.lang.OutOfMemoryError", http.StatusInternalServerError)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	var users []string
	for i := 1; i <= 30; i++ {
		users = append(users, sandbox.UserName(i))
	}
	p, _ := atlassian.Lookup("jira")
	res, err := apimode.Invalidate(context.Background(), apimode.Options{Product: p, BaseURL: proxy.URL, Auth: bearer(t, c),
		Users: users, Concurrency: 4, Backoff: time.Millisecond, Breaker: apimode.BreakerOptions{Consecutive: 5}})
	if reauth.CodeOf(err) != reauth.ExitPartial || !strings.Contains(err.Error(), "failing") {
		t.Fatalf("want a partial stop by the breaker, got exit %d: %v", reauth.CodeOf(err), err)
	}
	if res.Ended != healthy || res.Ended+len(res.Failed)+len(res.NotDone) != 30 {
		t.Fatalf("ended %d failed %d not done %d", res.Ended, len(res.Failed), len(res.NotDone))
	}
	// Without the breaker: 8 + 22 users x 5 attempts = 118 calls. Replies to the last healthy
	// calls may land between the failures and reset the consecutive count a few times.
	if n := deletes.Load(); n >= 30 {
		t.Fatalf("%d DELETEs reached the proxy: the run did not stop", n)
	}
	// It stopped: the users it never reached are still logged in on the node.
	var stillIn int
	for i := 1; i <= 30; i++ {
		b, err := sandbox.LoadBrowser(c.BrowserFile(i))
		if err != nil {
			t.Fatal(err)
		}
		b.Product = c.Product()
		if who, ok, err := b.WhoAmI(context.Background(), node.URL); err == nil && ok && who == sandbox.UserName(i) {
			stillIn++
		}
	}
	if stillIn != 30-healthy {
		t.Fatalf("%d users still logged in, want %d", stillIn, 30-healthy)
	}
}
