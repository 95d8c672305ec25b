package apimode

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

func product(t *testing.T, id string) atlassian.Product {
	t.Helper()
	p, err := atlassian.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var adminAuth = Auth{User: "admin", Password: reauth.NewSecret("pw")}

// fakeProduct is a real HTTP server on 127.0.0.1 that answers like Jira's or Bamboo's version
// resource and session endpoint, with the documented auth rules. Tests script its answers.
type fakeProduct struct {
	version string
	deleted sync.Map // user -> count
	calls   atomic.Int64
	// answer, when set, decides the DELETE status for the n-th call (1-based); 0 = default.
	answer func(n int64, user string, w http.ResponseWriter) int
}

func (f *fakeProduct) handler(p atlassian.Product) http.Handler {
	mux := http.NewServeMux()
	authOK := func(r *http.Request) (ok, admin bool) {
		if u, pw, has := r.BasicAuth(); has {
			return u == "admin" && pw == "pw" || u == "bob" && pw == "pw", u == "admin"
		}
		if r.Header.Get("Authorization") == "Bearer tok" {
			return true, true
		}
		return false, false
	}
	mux.HandleFunc("GET "+VersionPath(p.ID), func(w http.ResponseWriter, r *http.Request) {
		if _, _, has := r.BasicAuth(); has {
			if ok, _ := authOK(r); !ok { // Jira: wrong basic credentials are a 401 even here
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
		}
		if !strings.Contains(r.Header.Get("Accept"), "json") { // Bamboo's REST default is XML
			w.Header().Set("Content-Type", "application/xml")
			w.Write([]byte("<info><version>" + f.version + "</version></info>"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"version":"` + f.version + `","buildNumber":1}`))
	})
	// The login page every unauthenticated browser is sent to: it answers 200 to any method.
	mux.HandleFunc("/login.jsp", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><form action=login.jsp>log in</form></html>"))
	})
	mux.HandleFunc("DELETE "+p.SessionAPI, func(w http.ResponseWriter, r *http.Request) {
		n := f.calls.Add(1)
		ok, admin := authOK(r)
		switch {
		case !ok:
			w.WriteHeader(http.StatusUnauthorized)
			return
		case !admin:
			w.WriteHeader(http.StatusForbidden)
			return
		}
		user := r.PathValue("username")
		if f.answer != nil {
			if code := f.answer(n, user, w); code != 0 {
				w.WriteHeader(code)
				return
			}
		}
		if strings.HasPrefix(user, "reauth-probe-") || strings.HasPrefix(user, "ghost") {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		v, _ := f.deleted.LoadOrStore(user, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func serve(t *testing.T, f *fakeProduct, p atlassian.Product) string {
	t.Helper()
	return serveHandler(t, f.handler(p))
}

// serveHandler serves h on 127.0.0.1 until the test ends.
func serveHandler(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name, product, version string
		auth                   Auth
		supported              bool
		code                   reauth.ExitCode // 0: no error
		why                    string
	}{
		{"jira 9.12 basic", "jira", "9.12.0", adminAuth, true, 0, "since 9.11.0"},
		{"jira 9.11.0 exactly", "jira", "9.11.0", adminAuth, true, 0, "DELETE /rest/api/2/user/session/{username}"},
		{"jira 10 token", "jira", "10.3.1", Auth{Token: reauth.NewSecret("tok")}, true, 0, ""},
		{"jira 9.10 too old", "jira", "9.10.2", adminAuth, false, 0, "came in 9.11.0"},
		{"bamboo 9.4", "bamboo", "9.4.0", adminAuth, true, 0, ""},
		{"bamboo 9.3", "bamboo", "9.3.5", adminAuth, false, 0, "9.4.0"},
		{"confluence has none", "confluence", "8.5.4", adminAuth, false, 0, "no REST endpoint"},
		{"no credentials", "jira", "9.12.0", Auth{}, false, 0, "no admin credentials"},
		{"wrong password", "jira", "9.12.0", Auth{User: "admin", Password: reauth.NewSecret("nope")}, false, reauth.ExitRefused, "HTTP 401"},
		{"wrong token", "jira", "9.12.0", Auth{Token: reauth.NewSecret("nope")}, false, reauth.ExitRefused, "HTTP 401"},
		{"not an admin", "jira", "9.12.0", Auth{User: "bob", Password: reauth.NewSecret("pw")}, false, reauth.ExitRefused, "HTTP 403"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := product(t, tc.product)
			f := &fakeProduct{version: tc.version}
			url := "http://127.0.0.1:1" // never called for products without the endpoint
			if p.SessionAPI != "" {
				url = serve(t, f, p)
			}
			s, err := Detect(context.Background(), nil, p, url, tc.auth)
			if got := reauth.CodeOf(err); got != tc.code {
				t.Fatalf("exit code %d, want %d (err %v)", got, tc.code, err)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tc.why) {
					t.Fatalf("error %q does not say %q", err, tc.why)
				}
				if strings.Contains(err.Error(), "nope") || strings.Contains(err.Error(), "pw") {
					t.Fatalf("error leaks a secret: %v", err)
				}
				return
			}
			if s.Supported != tc.supported || !strings.Contains(s.Why, tc.why) {
				t.Fatalf("got %+v, want supported=%v why~%q", s, tc.supported, tc.why)
			}
			if tc.supported && s.Version != tc.version {
				t.Fatalf("version %q, want %q", s.Version, tc.version)
			}
			if n := f.calls.Load(); tc.supported && n != 1 {
				t.Fatalf("%d DELETE calls, want exactly the one probe", n)
			}
			f.deleted.Range(func(k, _ any) bool { t.Fatalf("Detect ended sessions of %v", k); return false })
		})
	}
}

func TestDecide(t *testing.T) {
	yes := Support{Product: "jira", Supported: true, Why: "Jira 9.12.0 ends ..."}
	no := Support{Product: "confluence", Why: "Confluence has no REST endpoint that ends a user's sessions"}
	tests := []struct {
		mode        string
		sup         Support
		persistence bool
		api         bool
		why         string
		code        reauth.ExitCode
	}{
		{"auto", yes, false, true, "no restart", 0},
		{"", yes, false, true, "auto", 0},
		{"AUTO", no, false, false, "Confluence has no REST endpoint", 0},
		{"auto", yes, true, false, "persistence", 0},
		{"restart", yes, false, false, "mode: restart", 0},
		{"api", yes, false, true, "mode: api", 0},
		{"api", no, false, false, "api requested", reauth.ExitRefused},
		{"api", yes, true, false, "persistence", reauth.ExitRefused},
		{"fast", yes, false, false, "unknown mode", reauth.ExitUsage},
	}
	for _, tc := range tests {
		api, why := Decide(tc.mode, tc.sup, tc.persistence)
		if api != tc.api || !strings.Contains(why, tc.why) {
			t.Errorf("Decide(%q, %v, %v) = %v %q; want %v ~%q", tc.mode, tc.sup.Supported, tc.persistence, api, why, tc.api, tc.why)
		}
		if got := reauth.CodeOf(CheckMode(tc.mode, tc.sup, tc.persistence)); got != tc.code {
			t.Errorf("CheckMode(%q, %v, %v) exit %d, want %d", tc.mode, tc.sup.Supported, tc.persistence, got, tc.code)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0}, {"3", 3 * time.Second}, {"-1", 0}, {"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	} {
		if got := parseRetryAfter(tc.v, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func users(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
	}
	return out
}

func TestInvalidateOutcomes(t *testing.T) {
	p := product(t, "jira")
	tests := []struct {
		name    string
		answer  func(n int64, user string, w http.ResponseWriter) int
		users   []string
		auth    Auth
		ended   int
		nf, bad int
		code    reauth.ExitCode
		minReqs int
	}{
		{name: "all ended", users: users("u", 30), ended: 30, minReqs: 30},
		{name: "unknown users are counted apart", users: []string{"ann", "ghost1", "bob", "ghost2"}, ended: 2, nf: 2},
		{name: "a name with a slash is one path segment", users: []string{"dom/ann", "o'neil", "ü"}, ended: 3},
		{name: "503 twice then fine", users: []string{"ann", "bob"}, ended: 2, minReqs: 4,
			answer: func(n int64, _ string, _ http.ResponseWriter) int {
				if n <= 2 {
					return http.StatusServiceUnavailable
				}
				return 0
			}},
		{name: "400 is not retried", users: []string{"ann", "bad"}, ended: 1, bad: 1, code: reauth.ExitPartial,
			answer: func(_ int64, u string, _ http.ResponseWriter) int {
				if u == "bad" {
					return http.StatusBadRequest
				}
				return 0
			}},
		{name: "wrong credentials stop before anything ends", users: users("u", 20), auth: Auth{Token: reauth.NewSecret("nope")}, code: reauth.ExitRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeProduct{version: "9.12.0", answer: tc.answer}
			url := serve(t, f, p)
			auth := tc.auth
			if auth.IsZero() {
				auth = adminAuth
			}
			var lastDone, lastTotal int
			res, err := Invalidate(context.Background(), Options{Product: p, BaseURL: url, Auth: auth, Users: tc.users,
				Backoff: time.Millisecond, Progress: func(d, tot int, _ float64, _ time.Duration) { lastDone, lastTotal = d, tot }})
			if got := reauth.CodeOf(err); got != tc.code {
				t.Fatalf("exit %d, want %d: %v", got, tc.code, err)
			}
			if res.Ended != tc.ended || len(res.NotFound) != tc.nf || len(res.Failed) != tc.bad {
				t.Fatalf("ended %d not-found %v failed %v; want %d %d %d", res.Ended, res.NotFound, res.Failed, tc.ended, tc.nf, tc.bad)
			}
			if res.Requests < tc.minReqs {
				t.Fatalf("%d requests, want at least %d", res.Requests, tc.minReqs)
			}
			for _, u := range tc.users {
				_, was := f.deleted.Load(u)
				if tc.ended == len(tc.users) && !was {
					t.Fatalf("the server never saw user %q (path escaping?)", u)
				}
			}
			if tc.code == reauth.ExitRefused && f.calls.Load() > 8 {
				t.Fatalf("%d calls after a 401: the run must stop at once", f.calls.Load())
			}
			if tc.code == 0 && (lastDone != len(tc.users) || lastTotal != len(tc.users)) {
				t.Fatalf("final progress %d/%d", lastDone, lastTotal)
			}
		})
	}
}

func TestInvalidateHonoursRetryAfterAndConcurrency(t *testing.T) {
	p := product(t, "bamboo")
	var inFlight, peak atomic.Int64
	var mu sync.Mutex
	var first429, firstAfter time.Time
	f := &fakeProduct{version: "9.6.0"}
	f.answer = func(n int64, _ string, w http.ResponseWriter) int {
		arrived := time.Now() // a request that arrived while the 429 was still being answered is not "after" it
		cur := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			old := peak.Load()
			if cur <= old || peak.CompareAndSwap(old, cur) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond) // hold the request so that concurrency shows
		mu.Lock()
		defer mu.Unlock()
		if n == 5 {
			first429 = time.Now()
			w.Header().Set("Retry-After", "1")
			return http.StatusTooManyRequests
		}
		if !first429.IsZero() && firstAfter.IsZero() && n > 5+3 && arrived.After(first429) {
			firstAfter = arrived
		}
		return 0
	}
	url := serve(t, f, p)
	res, err := Invalidate(context.Background(), Options{Product: p, BaseURLs: []string{url, url}, Auth: adminAuth,
		Users: users("u", 40), Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ended != 40 || res.Throttled != 1 {
		t.Fatalf("ended %d throttled %d", res.Ended, res.Throttled)
	}
	if peak.Load() > 3 {
		t.Fatalf("%d requests in flight at once, limit 3", peak.Load())
	}
	// Every worker held off after the 429: requests started well after it only once the
	// Retry-After second had passed (the few already in flight excepted).
	if gap := firstAfter.Sub(first429); gap < 900*time.Millisecond {
		t.Fatalf("requests resumed %v after a 429 with Retry-After: 1", gap)
	}
}

func TestBreakerTripsAndStops(t *testing.T) {
	p := product(t, "jira")
	f := &fakeProduct{version: "9.12.0", answer: func(n int64, _ string, _ http.ResponseWriter) int {
		if n > 10 {
			return http.StatusInternalServerError
		}
		return 0
	}}
	url := serve(t, f, p)
	res, err := Invalidate(context.Background(), Options{Product: p, BaseURL: url, Auth: adminAuth, Users: users("u", 200),
		Concurrency: 4, Backoff: time.Millisecond, Breaker: BreakerOptions{Consecutive: 6}})
	if reauth.CodeOf(err) != reauth.ExitPartial || !strings.Contains(err.Error(), "consecutive") {
		t.Fatalf("want a partial stop by the breaker, got exit %d: %v", reauth.CodeOf(err), err)
	}
	if res.Ended != 10 || len(res.NotDone)+len(res.Failed) != 190 {
		t.Fatalf("ended %d, not done %d, failed %d", res.Ended, len(res.NotDone), len(res.Failed))
	}
	if n := f.calls.Load(); n >= 40 { // without it: 10 + 190 users x 5 attempts
		t.Fatalf("%d calls: the breaker should stop the run within a few calls of the 6th failure", n)
	}
	if reauth.HintOf(err) == "" {
		t.Fatal("no hint")
	}
}

func TestBreakerRatio(t *testing.T) {
	b := newBreaker(BreakerOptions{Consecutive: 100, Window: 10, MaxFailRatio: 0.5})
	// Alternate fail/ok: 50% never exceeds the ratio.
	for i := 0; i < 40; i++ {
		if tripped, _ := b.record(i%2 == 0); tripped {
			t.Fatalf("tripped at %d with 50%% failures", i)
		}
	}
	trips := 0
	for i := 0; i < 10; i++ {
		if tripped, why := b.record(i%3 != 0); tripped {
			trips++
			if !strings.Contains(why, "of the last 10") {
				t.Fatalf("why %q", why)
			}
		}
	}
	if trips != 1 {
		t.Fatalf("tripped %d times, want once", trips)
	}
}

func TestInvalidateCancelled(t *testing.T) {
	p := product(t, "jira")
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeProduct{version: "9.12.0", answer: func(n int64, _ string, _ http.ResponseWriter) int {
		if n == 5 {
			cancel()
		}
		return 0
	}}
	url := serve(t, f, p)
	res, err := Invalidate(ctx, Options{Product: p, BaseURL: url, Auth: adminAuth, Users: users("u", 100), Concurrency: 2})
	if reauth.CodeOf(err) != reauth.ExitInterrupted {
		t.Fatalf("exit %d: %v", reauth.CodeOf(err), err)
	}
	if len(res.NotDone) == 0 || res.Ended+len(res.NotDone) != 100 {
		t.Fatalf("ended %d not done %d", res.Ended, len(res.NotDone))
	}
}

// The first Ctrl-C (Stop) lets the requests in flight finish, answered and counted, and starts no
// new user: the others are reported not done, none failed.
func TestInvalidateStopFinishesInFlight(t *testing.T) {
	p := product(t, "jira")
	stop, fire := reauth.NewStop()
	f := &fakeProduct{version: "9.12.0", answer: func(n int64, _ string, _ http.ResponseWriter) int {
		if n == 5 {
			fire()
		}
		return 0
	}}
	url := serve(t, f, p)
	res, err := Invalidate(context.Background(), Options{Product: p, BaseURL: url, Auth: adminAuth, Users: users("u", 100),
		Concurrency: 2, Stop: stop})
	if reauth.CodeOf(err) != reauth.ExitInterrupted {
		t.Fatalf("exit %d: %v", reauth.CodeOf(err), err)
	}
	if len(res.Failed) != 0 || res.Ended < 4 || res.Ended > 7 || res.Ended+len(res.NotDone) != 100 {
		t.Fatalf("ended %d, not done %d, failed %d: want the requests in flight ended and no new one", res.Ended, len(res.NotDone), len(res.Failed))
	}
}

func TestInvalidateRefusesWithoutEndpointOrCredentials(t *testing.T) {
	_, err := Invalidate(context.Background(), Options{Product: product(t, "confluence"), BaseURL: "http://127.0.0.1:1", Auth: adminAuth})
	if reauth.CodeOf(err) != reauth.ExitRefused {
		t.Fatalf("confluence: %v", err)
	}
	_, err = Invalidate(context.Background(), Options{Product: product(t, "jira"), BaseURL: "http://127.0.0.1:1"})
	if reauth.CodeOf(err) != reauth.ExitUsage {
		t.Fatalf("no auth: %v", err)
	}
	if errors.Is(err, context.Canceled) {
		t.Fatal("unexpected")
	}
}

// TestInvalidateReusesConnections: with 8 workers on one node, a run of 400 users opens at most
// one connection per worker (the standard transport keeps 2 idle per host, so 6 of the 8
// workers reconnected for every call), and the connections are closed at the end.
func TestInvalidateReusesConnections(t *testing.T) {
	p := product(t, "jira")
	f := &fakeProduct{version: "9.12.0"}
	f.answer = func(int64, string, http.ResponseWriter) int {
		time.Sleep(time.Millisecond) // long enough that the workers overlap
		return 0
	}
	var opened, open atomic.Int64
	srv := httptest.NewUnstartedServer(f.handler(p))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			opened.Add(1)
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	res, err := Invalidate(context.Background(), Options{Product: p, BaseURL: srv.URL, Auth: adminAuth, Users: users("u", 400), Concurrency: 8})
	if err != nil || res.Ended != 400 {
		t.Fatalf("ended %d: %v", res.Ended, err)
	}
	if n := opened.Load(); n > 8 {
		t.Fatalf("%d connections opened for 400 calls by 8 workers: they are not kept alive", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for open.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := open.Load(); n != 0 {
		t.Fatalf("%d connections still open after the run", n)
	}
}
