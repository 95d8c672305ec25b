package apimode

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

// TestCrowdSessionAPI: Crowd's endpoint names the user in the query (escaped as a query value,
// so a name with & or = cannot add a parameter), under /crowd; Detect needs no version resource,
// and its probe still refuses a Crowd that answers 2xx for a user that cannot exist.
func TestCrowdSessionAPI(t *testing.T) {
	p, err := atlassian.Lookup("crowd")
	if err != nil {
		t.Fatal(err)
	}
	got, err := sessionPath(p, "a&b=c d")
	if err != nil || got != "/rest/usermanagement/1/session?username=a%26b%3Dc+d" {
		t.Fatalf("sessionPath = %q, %v", got, err)
	}
	if _, err := sessionPath(p, ""); err == nil {
		t.Fatal("an empty user name was accepted")
	}
	if got, _ := sessionPath(p, ".."); got != "/rest/usermanagement/1/session?username=.." {
		t.Fatalf("a query value needs no dot-segment refusal: %q", got)
	}

	var mu sync.Mutex
	var seen []string
	unknown := http.StatusNotFound
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" "+r.URL.Query().Get("username"))
		mu.Unlock()
		if u, pw, ok := r.BasicAuth(); !ok || u != "jira-app" || pw != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodDelete || r.URL.Path != "/crowd/rest/usermanagement/1/session" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		if strings.HasPrefix(r.URL.Query().Get("username"), "reauth-probe-") {
			w.WriteHeader(unknown)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	auth := Auth{User: "jira-app", Password: reauth.NewSecret("s3cret")}
	s, err := Detect(context.Background(), srv.Client(), p, srv.URL, auth)
	if err != nil || !s.Supported || !strings.Contains(s.Why, "application") {
		t.Fatalf("Detect: %+v, %v", s, err)
	}
	res, err := Invalidate(context.Background(), Options{Product: p, BaseURL: srv.URL, Auth: auth, Users: []string{"alice", "b&ob"}, Client: srv.Client()})
	if err != nil || res.Ended != 2 {
		t.Fatalf("Invalidate: %+v, %v", res, err)
	}
	mu.Lock()
	joined := strings.Join(seen, "\n")
	mu.Unlock()
	if !strings.Contains(joined, "DELETE /crowd/rest/usermanagement/1/session alice") || !strings.Contains(joined, "DELETE /crowd/rest/usermanagement/1/session b&ob") {
		t.Fatalf("calls:\n%s", joined)
	}
	// A node URL that already ends in /crowd (a url_template, a pod URL with its context path)
	// reaches the same endpoints: the context path is not doubled (it was, into 404s).
	if s, err := Detect(context.Background(), srv.Client(), p, srv.URL+"/crowd/", auth); err != nil || !s.Supported {
		t.Fatalf("Detect at .../crowd/: %+v, %v", s, err)
	}
	if res, err := Invalidate(context.Background(), Options{Product: p, BaseURL: srv.URL + "/crowd", Auth: auth, Users: []string{"carol"}, Client: srv.Client()}); err != nil || res.Ended != 1 {
		t.Fatalf("Invalidate at .../crowd: %+v, %v", res, err)
	}
	mu.Lock()
	joined = strings.Join(seen, "\n")
	mu.Unlock()
	if strings.Contains(joined, "/crowd/crowd") || !strings.Contains(joined, "DELETE /crowd/rest/usermanagement/1/session carol") {
		t.Fatalf("calls:\n%s", joined)
	}
	unknown = http.StatusNoContent // a Crowd that "ends" the sessions of nobody: not trusted
	if _, err := Detect(context.Background(), srv.Client(), p, srv.URL, auth); reauth.CodeOf(err) != reauth.ExitRefused {
		t.Fatalf("Detect with 204 for an unknown user: %v", err)
	}
	if _, err := Detect(context.Background(), srv.Client(), p, srv.URL, Auth{User: "jira-app", Password: reauth.NewSecret("wrong")}); reauth.CodeOf(err) != reauth.ExitRefused ||
		strings.Contains(err.Error(), "wrong") {
		t.Fatalf("Detect with a wrong password: %v", err)
	}
}
