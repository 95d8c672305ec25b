package sandbox

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/testenv"
)

// TestReadinessMatchesDocs checks the code and JSON of every state, per product, against
// docs/atlassian.md and the transcribed responses in realcases/status.
func TestReadinessMatchesDocs(t *testing.T) {
	real := testenv.Realcases(t)
	tests := []struct {
		product atlassian.ProductID
		phase   string
		fault   Fault
		code    int
		file    string // realcases/status file the body must equal ("" = check key only)
	}{
		{atlassian.Jira, stateStarting, "", 200, "jira_STARTING.json"},
		{atlassian.Jira, stateRunning, "", 200, "jira_RUNNING.json"},
		{atlassian.Jira, stateStopping, "", 200, "jira_STOPPING.json"},
		{atlassian.Jira, stateRunning, FaultMaintenance, 503, "jira_MAINTENANCE.json"},
		{atlassian.Jira, stateRunning, FaultError, 500, "jira_ERROR.json"},
		{atlassian.Jira, stateError, "", 500, "jira_ERROR.json"},
		{atlassian.Bitbucket, stateStarting, "", 503, "bitbucket_STARTING_http503.json"},
		{atlassian.Bitbucket, stateRunning, "", 200, "bitbucket_RUNNING.json"},
		{atlassian.Bitbucket, stateRunning, FaultMaintenance, 200, ""},
		{atlassian.Bitbucket, stateRunning, FaultError, 500, "bitbucket_ERROR.json"},
		{atlassian.Confluence, stateStarting, "", 200, ""},
		{atlassian.Confluence, stateRunning, "", 200, ""},
		{atlassian.Bamboo, stateStarting, "", 200, ""},
		{atlassian.Bamboo, stateRunning, "", 200, ""},
		{atlassian.Fisheye, stateStarting, "", 503, ""},
		{atlassian.Fisheye, stateRunning, "", 200, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.product)+"/"+tt.phase+"/"+string(tt.fault), func(t *testing.T) {
			p, _ := atlassian.Lookup(string(tt.product))
			dir := t.TempDir()
			n := &node{p: p, phase: tt.phase, dir: dir, name: "node1", st: &state{Version: "1.0"}}
			if tt.fault != "" {
				os.MkdirAll(nodeDir(dir, "node1"), 0o755)
				os.WriteFile(faultFile(dir, "node1"), []byte(tt.fault), 0o644)
			}
			rec := &captureWriter{h: http.Header{}}
			n.handleStatus(rec, nil)
			if rec.code != tt.code {
				t.Errorf("HTTP %d, want %d", rec.code, tt.code)
			}
			var got map[string]any
			if err := json.Unmarshal(rec.body, &got); err != nil {
				t.Fatalf("body %q: %v", rec.body, err)
			}
			key := p.Ready.StateKey
			if key == "" {
				key = "state"
			}
			if got[key] == nil {
				t.Fatalf("body %s has no %q key", rec.body, key)
			}
			if tt.file != "" {
				b, err := os.ReadFile(filepath.Join(real, "status", tt.file))
				if err != nil {
					t.Fatal(err)
				}
				var want map[string]any
				if err := json.Unmarshal(b, &want); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("body %s, want %s (realcases/status/%s)", rec.body, b, tt.file)
				}
			}
		})
	}
}

type captureWriter struct {
	h    http.Header
	code int
	body []byte
}

func (c *captureWriter) Header() http.Header  { return c.h }
func (c *captureWriter) WriteHeader(code int) { c.code = code }
func (c *captureWriter) Write(b []byte) (int, error) {
	if c.code == 0 {
		c.code = 200
	}
	c.body = append(c.body, b...)
	return len(b), nil
}

// TestLiveStartingAndFaults runs real processes through STARTING (hang-starting), a failed start
// and a maintenance fault, reading the product's own readiness endpoint.
func TestLiveStartingAndFaults(t *testing.T) {
	for _, id := range []atlassian.ProductID{atlassian.Jira, atlassian.Bitbucket, atlassian.Bamboo} {
		t.Run(string(id), func(t *testing.T) {
			t.Parallel()
			c := up(t, Options{Product: id, Nodes: 1})
			p, _ := atlassian.Lookup(string(id))
			url := c.Nodes()[0].URL + p.Ready.Path
			ctx := context.Background()
			key := p.Ready.StateKey

			// hang-starting: the restarted node answers STARTING with the product's code, and stays so.
			if err := c.SetFault("node1", FaultHangStarting); err != nil {
				t.Fatal(err)
			}
			if err := c.RestartNode(ctx, "node1"); err != nil {
				t.Fatal(err)
			}
			code, st := pollState(t, url, key, stateStarting)
			if code != p.Ready.StartingCode {
				t.Errorf("STARTING answered %d, want %d", code, p.Ready.StartingCode)
			}
			if err := c.WaitRunning(ctx, 300*time.Millisecond); err == nil {
				t.Error("WaitRunning succeeded on a node hanging in STARTING")
			}
			// Pages are not served while starting.
			if code, _ := get(t, c.Nodes()[0].URL+p.Login.WhoAmIPath); code != http.StatusServiceUnavailable {
				t.Errorf("who-am-I while STARTING: %d, want 503", code)
			}

			// fail-next-start: the process exits during STARTING, once.
			if err := c.SetFault("node1", FaultFailNextStart); err != nil {
				t.Fatal(err)
			}
			if err := c.RestartNode(ctx, "node1"); err != nil {
				t.Fatal(err)
			}
			if err := c.WaitRunning(ctx, 20*time.Second); err == nil {
				t.Fatal("a node told to fail its start became RUNNING")
			}
			if f, _ := c.Fault("node1"); f != FaultNone {
				t.Errorf("fault after a failed start: %q, want it consumed", f)
			}
			if err := c.StartNode(ctx, "node1"); err != nil {
				t.Fatal(err)
			}
			if err := c.WaitRunning(ctx, 20*time.Second); err != nil {
				t.Fatalf("second start: %v", err)
			}

			// A live maintenance fault, then cleared.
			c.SetFault("node1", FaultMaintenance)
			pollState(t, url, key, stateMaintenance)
			c.SetFault("node1", FaultNone)
			if code, _ := pollState(t, url, key, stateRunning); code != 200 {
				t.Errorf("RUNNING answered %d", code)
			}
			st2, err := c.Status(ctx)
			if err != nil || len(st2) != 1 || st2[0].State != stateRunning || st2[0].PID == 0 {
				t.Errorf("Status = %+v, %v", st2, err)
			}
			_ = st
		})
	}
}

// pollState polls a readiness URL until key says want, and returns the code it answered then.
func pollState(t *testing.T, url, key, want string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(20 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			var v map[string]any
			json.NewDecoder(resp.Body).Decode(&v)
			resp.Body.Close()
			if s, _ := v[key].(string); s == want {
				return resp.StatusCode, s
			} else {
				last = s
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never said %s=%s (last %q)", url, key, want, last)
	return 0, ""
}
