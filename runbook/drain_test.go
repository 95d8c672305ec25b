package runbook_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
)

// drainJSON is the part of a node's --json result about its drain.
type drainJSON struct {
	Products []struct {
		Nodes []struct {
			Name     string `json:"name"`
			Status   string `json:"status"`
			Drained  bool   `json:"drained"`
			Reenable string `json:"reenable"`
			Error    string `json:"error"`
		} `json:"nodes"`
	} `json:"products"`
}

// withDrain adds drain hooks that log to hooks (one line per hook run) to the inventory.
func withDrain(t *testing.T, cfg, hooks string, afterOnFailure bool) {
	t.Helper()
	b, _ := os.ReadFile(cfg)
	drain := `    drain: {before: "echo before $REAUTH_NODE >> ` + hooks + `", after: "echo after $REAUTH_NODE >> ` + hooks + `"`
	if afterOnFailure {
		drain += ", after_on_failure: true"
	}
	s := strings.Replace(string(b), "    nodes:\n", drain+"}\n    nodes:\n", 1)
	if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func hookLines(t *testing.T, path string) string {
	b, _ := os.ReadFile(path)
	return strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", "; ") + ";"
}

// A node that does not come back after its before-hook drained it stays drained (by default an
// admin does not want users sent to a node that failed to start), and the run says so: in the
// error and its hint (with the after-hook command to run, REAUTH_NODE set), the report (--json
// drained, reenable) and the restart journal. --resume restarts it and runs its after-hook.
// With drain.after_on_failure the after-hook runs on the failure too. Real node processes.
func TestRunFailedRestartAfterDrain(t *testing.T) {
	for _, afterOnFailure := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "after_on_failure"}[afterOnFailure], func(t *testing.T) {
			c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 2, Users: 4, RememberFraction: 1})
			dir := t.TempDir()
			cfg := writeInventory(t, dir, product{c: c})
			setStartTimeout(t, cfg, "10s")
			hooks := filepath.Join(dir, "hooks.log")
			withDrain(t, cfg, hooks, afterOnFailure)
			if err := c.SetFault("node2", sandbox.FaultFailNextStart); err != nil {
				t.Fatal(err)
			}
			t0 := time.Now()
			stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json")
			t.Logf("run took %s", time.Since(t0))
			if code != int(reauth.ExitPartial) {
				t.Fatalf("run exited %d, want 3\n%s\n%s", code, stdout, stderr)
			}
			var r drainJSON
			decodeInto(t, stdout, &r)
			n2 := r.Products[0].Nodes[1]
			rj, _ := os.ReadFile(stateDir(cfg).RestartJournal(cfg, "jira"))
			if afterOnFailure {
				if got := hookLines(t, hooks); got != "before node1; after node1; before node2; after node2;" {
					t.Fatalf("hooks run: %q", got)
				}
				if n2.Drained || n2.Reenable != "" || !strings.Contains(n2.Error, "after-hook ran anyway") {
					t.Fatalf("node2: %+v", n2)
				}
				return
			}
			if got := hookLines(t, hooks); got != "before node1; after node1; before node2;" {
				t.Fatalf("hooks run: %q", got)
			}
			if n2.Status != "failed" || !n2.Drained || !strings.Contains(n2.Error, "still drained") ||
				!strings.Contains(n2.Reenable, "REAUTH_NODE=node2") || !strings.Contains(n2.Reenable, "echo after") {
				t.Fatalf("node2 in the report: %+v", n2)
			}
			if !strings.Contains(stderr, "node2 is still drained") || !strings.Contains(stderr, "REAUTH_NODE=node2") {
				t.Fatalf("the error does not say node2 is drained and how to put it back:\n%s", stderr)
			}
			var j struct {
				Drained []string `json:"drained"`
			}
			if err := json.Unmarshal(rj, &j); err != nil || strings.Join(j.Drained, ",") != "node2" {
				t.Fatalf("restart journal: %s %v", rj, err)
			}
			// The printed command really puts node2 back.
			if out, _, code := shell(t, n2.Reenable); code != 0 || !strings.HasSuffix(hookLines(t, hooks), "after node2;") {
				t.Fatalf("reenable command: exit %d %s; hooks %q", code, out, hookLines(t, hooks))
			}
			os.Remove(hooks)
			t0 = time.Now()
			stdout, stderr, code = reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--resume", "--json")
			t.Logf("resume took %s", time.Since(t0))
			if code != 0 {
				t.Fatalf("resume exited %d\n%s\n%s", code, stdout, stderr)
			}
			if got := hookLines(t, hooks); got != "before node2; after node2;" {
				t.Fatalf("hooks run on resume: %q", got)
			}
			rj, _ = os.ReadFile(stateDir(cfg).RestartJournal(cfg, "jira"))
			j.Drained = nil
			if err := json.Unmarshal(rj, &j); err != nil || len(j.Drained) != 0 {
				t.Fatalf("restart journal after resume: %s %v", rj, err)
			}
		})
	}
}

// shell runs command with sh -c, as an admin would paste it.
func shell(t *testing.T, command string) (string, string, int) {
	t.Helper()
	return testenv.Output(t, exec.Command("sh", "-c", command))
}
