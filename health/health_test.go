package health

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/testenv"
)

func product(t *testing.T, id string) atlassian.Product {
	t.Helper()
	p, err := atlassian.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProbe(t *testing.T) {
	cases := []struct {
		name, product, path string
		code                int
		body                string
		ready               bool
		state               string
	}{
		{"jira running", "jira", "/status", 200, `{"state":"RUNNING"}`, true, "RUNNING"},
		{"jira starting 200", "jira", "/status", 200, `{"state":"STARTING"}`, false, "STARTING"},
		{"jira maintenance 503", "jira", "/status", 503, `{"state":"MAINTENANCE"}`, false, "MAINTENANCE"},
		{"running but 500", "jira", "/status", 500, `{"state":"RUNNING"}`, false, "RUNNING"},
		{"spaces and extra keys", "confluence", "/status", 200, "{ \"version\": \"8.5\",\n \"state\" : \"RUNNING\" }", true, "RUNNING"},
		{"string match is not enough", "jira", "/status", 200, `{"note":"\"state\":\"RUNNING\"","state":"STARTING"}`, false, "STARTING"},
		{"html", "jira", "/status", 200, `<html>RUNNING</html>`, false, ""},
		{"bitbucket starting 503", "bitbucket", "/status", 503, `{"state":"STARTING"}`, false, "STARTING"},
		{"bamboo key is status", "bamboo", "/rest/api/latest/status", 200, `{"status":"RUNNING"}`, true, "RUNNING"},
		{"bamboo state key ignored", "bamboo", "/rest/api/latest/status", 200, `{"state":"RUNNING"}`, false, ""},
		{"fisheye 200", "fisheye", "/rest-service-fecru/server-v1", 200, `<xml/>`, true, ""},
		{"crowd context path", "crowd", "/crowd/status", 200, `{"state":"RUNNING"}`, true, "RUNNING"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != tc.path {
					http.NotFound(w, r)
					return
				}
				w.WriteHeader(tc.code)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			r := Probe(context.Background(), srv.Client(), product(t, tc.product), srv.URL)
			if r.Ready != tc.ready || r.State != tc.state || r.HTTP != tc.code {
				t.Errorf("got %+v, want ready=%v state=%q http=%d", r, tc.ready, tc.state, tc.code)
			}
		})
	}
}

// The documented bodies in realcases are parsed as the products send them.
func TestProbeRealBodies(t *testing.T) {
	dir := filepath.Join(testenv.Realcases(t), "status")
	cases := []struct {
		file  string
		code  int
		ready bool
	}{
		{"jira_RUNNING.json", 200, true}, {"jira_STARTING.json", 200, false}, {"jira_STOPPING.json", 200, false},
		{"jira_FIRST_RUN.json", 200, false}, {"jira_MAINTENANCE.json", 503, false}, {"jira_ERROR.json", 500, false},
		{"bitbucket_STARTING_http503.json", 503, false}, {"bitbucket_RUNNING.json", 200, true},
	}
	for _, tc := range cases {
		body, err := os.ReadFile(filepath.Join(dir, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tc.code)
			w.Write(body)
		}))
		r := Probe(context.Background(), srv.Client(), product(t, "jira"), srv.URL)
		srv.Close()
		if r.Ready != tc.ready {
			t.Errorf("%s: ready = %v (%+v)", tc.file, r.Ready, r)
		}
	}
}

func TestProbeUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	r := Probe(context.Background(), nil, product(t, "jira"), "http://"+addr)
	if r.Ready || r.Err == nil || r.HTTP != 0 || r.String() != "unreachable" {
		t.Errorf("got %+v", r)
	}
}

func TestProbeHangingNodeTimesOut(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := Probe(ctx, srv.Client(), product(t, "jira"), srv.URL)
	if r.Ready || r.Err == nil || time.Since(start) > 3*time.Second {
		t.Errorf("got %+v after %v", r, time.Since(start))
	}
}
