package runbook_test

import (
	"strings"
	"testing"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
)

// The plan shows ten users and counts the rest: all of them, not the rest of the twenty it read
// (it said "… and 10 more user(s)" whatever the number).
func TestRunPlanCountsEveryUser(t *testing.T) {
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 1, Users: 25, RememberFraction: 1})
	cfg := writeInventory(t, t.TempDir(), product{c: c})
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--dry-run")
	if code != 0 || !strings.Contains(stdout, "… and 15 more user(s)") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}
