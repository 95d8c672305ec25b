package verify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

// node answers the Jira who-am-I endpoint as a real node does: 200 with the user for the one good
// cookie, 401 otherwise; the login form sets both cookies for the right password.
func node(t *testing.T) *httptest.Server {
	t.Helper()
	jira, _ := atlassian.Lookup("jira")
	mux := http.NewServeMux()
	mux.HandleFunc(jira.Login.WhoAmIPath, func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(jira.RememberMeCookie); err == nil && c.Value == "good" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"self":"x","name":"alice","loginInfo":{}}`))
			return
		}
		if c, err := r.Cookie("JSESSIONID"); err == nil && c.Value == "redirect" {
			http.Redirect(w, r, "/login.jsp", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	})
	mux.HandleFunc(jira.Login.Path, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.PostForm.Get("os_username") != "canary" || r.PostForm.Get("os_password") != "pw" || r.PostForm.Get("os_cookie") != "true" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: "s1"})
		http.SetCookie(w, &http.Cookie{Name: jira.RememberMeCookie, Value: "good"})
		http.Redirect(w, r, "/secure/Dashboard.jspa", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestReplay(t *testing.T) {
	srv := node(t)
	jira, _ := atlassian.Lookup("jira")
	r := Replayer{Product: jira, Client: NewClient(5 * time.Second)}
	ctx := context.Background()
	tests := []struct {
		name     string
		cookie   *http.Cookie
		accepted bool
		http     int
	}{
		{"live remember-me cookie", &http.Cookie{Name: jira.RememberMeCookie, Value: "good"}, true, 200},
		{"dead remember-me cookie", &http.Cookie{Name: jira.RememberMeCookie, Value: "old"}, false, 401},
		{"redirect to login page", &http.Cookie{Name: "JSESSIONID", Value: "redirect"}, false, 302},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := r.Replay(ctx, "node1", srv.URL, tc.cookie)
			if out.Accepted != tc.accepted || out.HTTP != tc.http {
				t.Fatalf("got accepted=%v http=%d, want %v %d (%+v)", out.Accepted, out.HTTP, tc.accepted, tc.http, out)
			}
			if tc.accepted && out.User != "alice" {
				t.Fatalf("user = %q, want alice", out.User)
			}
			if strings.Contains(out.Cookie, tc.cookie.Value) && len(tc.cookie.Value) > 3 {
				t.Fatalf("outcome reveals the cookie value: %q", out.Cookie)
			}
		})
	}
	if out := r.Replay(ctx, "down", "http://127.0.0.1:1", &http.Cookie{Name: "x", Value: "y"}); out.Accepted || out.Error == "" {
		t.Fatalf("unreachable node: %+v", out)
	}
}

func TestLogin(t *testing.T) {
	srv := node(t)
	jira, _ := atlassian.Lookup("jira")
	client := &http.Client{Timeout: 5 * time.Second} // follows redirects: Login must not
	cs, err := Login(context.Background(), client, jira, srv.URL, "canary", reauth.NewSecret("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("cookies = %v", cs)
	}
	_, err = Login(context.Background(), client, jira, srv.URL, "canary", reauth.NewSecret("wrong-secret"))
	if err == nil || strings.Contains(err.Error(), "wrong-secret") {
		t.Fatalf("wrong password: err = %v", err)
	}
}

func TestDescribeIsStableAndHidesValue(t *testing.T) {
	a := Describe(&http.Cookie{Name: "seraph.rememberme.cookie", Value: "12345%3Aabcdef"})
	b := Describe(&http.Cookie{Name: "seraph.rememberme.cookie", Value: "12345%3Aabcdef"})
	c := Describe(&http.Cookie{Name: "seraph.rememberme.cookie", Value: "12346%3Aabcdef"})
	if a != b || a == c || strings.Contains(a, "abcdef") {
		t.Fatalf("describe: %q %q %q", a, b, c)
	}
}

// A Crowd node URL that already ends in /crowd is not given the context path twice: the proof's
// login and replay reach /crowd/..., as the health probe always did.
func TestCrowdContextPathOnce(t *testing.T) {
	crowd, _ := atlassian.Lookup("crowd")
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		if r.URL.Path != "/crowd"+crowd.Login.WhoAmIPath {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	r := Replayer{Product: crowd, Client: NewClient(5 * time.Second)}
	for _, base := range []string{srv.URL, srv.URL + "/crowd", srv.URL + "/crowd/"} {
		if out := r.Replay(context.Background(), "crowd-0", base, &http.Cookie{Name: crowd.RememberMeCookie, Value: "old"}); out.HTTP != http.StatusUnauthorized {
			t.Errorf("replay at %s: %+v (paths %v)", base, out, paths)
		}
	}
	_, _ = Login(context.Background(), srv.Client(), crowd, srv.URL+"/crowd", "canary", reauth.NewSecret("pw"))
	if last := paths[len(paths)-1]; last != "/crowd"+crowd.Login.Path {
		t.Errorf("login posted to %s", last)
	}
}
