package runbook_test

import (
	"os"
	"strings"
	"testing"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
)

// A node name with control characters (YAML's "\e" is ESC) is shown escaped in the plan and the
// progress lines, never raw: it could clear the screen or retitle the window.
func TestRunPlanEscapesNodeNames(t *testing.T) {
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 1, Users: 2})
	cfg := writeInventory(t, t.TempDir(), product{c: c})
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	inv := strings.Replace(string(b), "name: node1\n", `name: "node1\e]0;pwned\a\e[2J"`+"\n", 1)
	if inv == string(b) {
		t.Fatalf("no node1 in:\n%s", b)
	}
	if err := os.WriteFile(cfg, []byte(inv), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--dry-run")
	if code != 0 {
		t.Fatalf("dry run exited %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.ContainsAny(stdout+stderr, "\x1b\x07") {
		t.Fatalf("a raw control character reaches the terminal:\n%q\n%q", stdout, stderr)
	}
	if !strings.Contains(stdout, `node1\x1b]0;pwned\x07`) {
		t.Fatalf("the plan does not show the node, escaped:\n%s", stdout)
	}
}
