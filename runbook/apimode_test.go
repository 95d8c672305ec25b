package runbook_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
)

// On Jira 9.11+ with admin credentials, auto mode ends every session through the REST API: every
// pre-run browser is logged out on every node, the excluded account stays in, and no node restarts.
func TestRunAPIModeNoRestart(t *testing.T) {
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 3, Users: 10, RememberFraction: 0.5, Version: "9.12.0"})
	bs := browsers(t, c)
	cfg := writeInventory(t, t.TempDir(), product{c: c, exclude: []string{"user007"}, admin: true})
	pids := c.PIDs()
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json")
	if code != 0 {
		t.Fatalf("run exited %d\n%s\n%s", code, stdout, stderr)
	}
	r := decode(t, stdout)
	if !r.Verified || r.NodesRestarted != 0 || r.Deleted != 5 {
		t.Fatalf("verified=%v nodes_restarted=%d deleted=%d\n%s", r.Verified, r.NodesRestarted, r.Deleted, stdout)
	}
	if !strings.Contains(stdout, `"mode": "api"`) {
		t.Fatalf("mode is not api:\n%s", stdout)
	}
	if got := c.PIDs(); fmt.Sprint(got) != fmt.Sprint(pids) {
		t.Fatalf("a node restarted in API mode: %v -> %v", pids, got)
	}
	// Every node drops the sessions when the cluster-wide invalidation reaches it: poll a while.
	var after []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		after = loggedIn(t, c, bs)
		sort.Strings(after)
		if strings.Join(after, ",") == "user007" {
			return
		}
	}
	t.Fatalf("still logged in: %v, want only the excluded user007", after)
}

// Jira 9.10 has no cluster-wide session endpoint: auto falls back to the rolling restart and says
// why; --mode api is refused before any change.
func TestRunAutoFallsBackToRestart(t *testing.T) {
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 2, Users: 4, Version: "9.10.0"})
	cfg := writeInventory(t, t.TempDir(), product{c: c, admin: true})
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--dry-run")
	if code != 0 || !strings.Contains(stdout, "auto: rolling restart, because Jira 9.10.0 has no cluster-wide session endpoint") {
		t.Fatalf("dry run exited %d\n%s\n%s", code, stdout, stderr)
	}
	pids := c.PIDs()
	_, stderr, code = reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--mode", "api")
	if code != 4 {
		t.Fatalf("--mode api on Jira 9.10 exited %d, want 4\n%s", code, stderr)
	}
	if got := c.PIDs(); fmt.Sprint(got) != fmt.Sprint(pids) {
		t.Fatalf("refused run restarted nodes: %v -> %v", pids, got)
	}
}

// Jira 9.12 with admin credentials would end its sessions through the API, but it signs in through
// Crowd SSO and caches Crowd's answer, which a restart clears and the API may not: auto picks the
// rolling restart and says why; an explicit --mode api is still followed.
func TestRunAutoRestartsForCrowdSSOCache(t *testing.T) {
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 1, Users: 4, Version: "9.12.0"})
	for _, n := range c.Nodes() {
		p := filepath.Join(n.Dir, "atlassian-jira", "WEB-INF", "classes")
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "seraph-config.xml"), []byte(ssoSeraph), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := writeInventory(t, t.TempDir(), product{c: c, admin: true})
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--dry-run", "--json")
	if code != 0 || !strings.Contains(stdout, `"mode": "restart"`) ||
		!strings.Contains(stdout, "auto: rolling restart, because Jira signs in through Crowd SSO and Jira caches a Crowd authentication") {
		t.Fatalf("auto with Crowd SSO (exit %d) did not pick the restart, saying why:\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = reauthCmd(t, nil, "run", "--config", cfg, "--dry-run", "--json", "--mode", "api")
	if code != 0 || !strings.Contains(stdout, `"mode": "api"`) {
		t.Fatalf("--mode api with Crowd SSO (exit %d) was not followed:\n%s\n%s", code, stdout, stderr)
	}
}
