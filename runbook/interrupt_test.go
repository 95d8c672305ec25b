package runbook_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
)

// Ctrl-C during the rolling restart: the node being restarted is waited for, the next ones are
// left untouched, the exit code is 130, and --resume finishes the job and verifies.
func TestRunCtrlCStopsBeforeNextNode(t *testing.T) {
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 3, Users: 4, StartupDelay: 1500 * time.Millisecond})
	bs := browsers(t, c)
	cfg := writeInventory(t, t.TempDir(), product{c: c})
	pids := c.PIDs()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.Binary(t), "run", "--config", cfg, "--yes")
	cmd.Env = append(os.Environ(), stateEnv(cmd.Args[1:])...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out, errlog bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		errlog.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "node1 (1/3) restarting") {
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
		}
	}
	err = cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if code != 130 {
		t.Fatalf("exit %d (%v), want 130\n%s\n%s", code, err, out.String(), errlog.String())
	}
	got := c.PIDs()
	if got["node1"] == pids["node1"] || got["node2"] != pids["node2"] || got["node3"] != pids["node3"] {
		t.Fatalf("pids %v -> %v: want node1 restarted, node2 and node3 untouched", pids, got)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("reauth died of the signal instead of stopping cleanly")
	}
	stdout, stderr2, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--resume", "--json")
	if code != 0 {
		t.Fatalf("resume exited %d\n%s\n%s", code, stdout, stderr2)
	}
	if r := decode(t, stdout); !r.Verified || fmt.Sprint(len(loggedIn(t, c, bs))) != "0" {
		t.Fatalf("after resume: verified=%v, logged in %v", r.Verified, loggedIn(t, c, bs))
	}
}

// Ctrl-C reaches every product working at once: each finishes the node it is restarting and
// stops before its next one; the exit code is 130 and --resume finishes both.
func TestRunCtrlCReachesEveryProduct(t *testing.T) {
	delay := 1500 * time.Millisecond
	jira := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 3, Users: 2, StartupDelay: delay})
	conf := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Confluence, Nodes: 3, Users: 2, StartupDelay: delay})
	cfg := writeInventory(t, t.TempDir(), product{c: jira, proofUser: "admin"}, product{c: conf, proofUser: "admin"})
	pids := map[string]map[string]int{"jira": jira.PIDs(), "confluence": conf.PIDs()}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.Binary(t), "run", "--config", cfg, "--yes")
	cmd.Env = append(os.Environ(), stateEnv(cmd.Args[1:])...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errlog bytes.Buffer
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	restarting := map[string]bool{}
	for sc.Scan() {
		errlog.WriteString(sc.Text() + "\n")
		for _, p := range []string{"jira", "confluence"} {
			if strings.HasPrefix(sc.Text(), p+": node1 (1/3) restarting") && !restarting[p] {
				if restarting[p] = true; len(restarting) == 2 {
					if err := cmd.Process.Signal(os.Interrupt); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	_ = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit %d, want 130\n%s", code, errlog.String())
	}
	for p, c := range map[string]*sandbox.Cluster{"jira": jira, "confluence": conf} {
		got := c.PIDs()
		if got["node1"] == pids[p]["node1"] || got["node2"] != pids[p]["node2"] || got["node3"] != pids[p]["node3"] {
			t.Fatalf("%s: pids %v -> %v: want node1 restarted, node2 and node3 untouched\n%s", p, pids[p], got, errlog.String())
		}
	}
	stdout, stderr2, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--resume", "--json")
	if code != 0 {
		t.Fatalf("resume exited %d\n%s\n%s", code, stdout, stderr2)
	}
	if got := productStatuses(decode(t, stdout)); got != "jira=done confluence=done" {
		t.Fatalf("after resume: %s", got)
	}
}
