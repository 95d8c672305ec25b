package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/reauth/reauth/internal/testenv"
)

// runBin runs the real reauth binary and returns stdout, stderr and the exit code.
func runBin(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return testenv.Output(t, exec.CommandContext(ctx, testenv.Binary(t), args...))
}

func sandboxPIDs(t *testing.T, dir string) []int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "nodes", "*", "pid"))
	var pids []int
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

func processAlive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// TestSandboxCLI drives the verbs through the real binary: up, status, restart-node (also with
// the ignore-restart fault), discover/inspect on the home it wrote, and down, which must leave
// no node process behind.
func TestSandboxCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sb")
	usage, errOut, code := runBin(t, "sandbox", "up", "--dir", dir, "--nodes", "2", "--users", "4", "--startup-delay", "500ms")
	if code != 0 {
		t.Fatalf("up: exit %d\n%s%s", code, usage, errOut)
	}
	out := usage
	pids := sandboxPIDs(t, dir)
	t.Cleanup(func() {
		runBin(t, "sandbox", "down", "--dir", dir)
		for _, pid := range pids {
			if processAlive(pid) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	for _, want := range []string{filepath.Join(dir, "reauth.yaml"), "reauth inspect --product jira --home " + filepath.Join(dir, "home"), "reauth run --config"} {
		if !strings.Contains(out, want) {
			t.Errorf("up output lacks %q:\n%s", want, out)
		}
	}
	if len(pids) != 2 {
		t.Fatalf("pids %v", pids)
	}

	// The seeded tokens, counted in the database directly.
	db, err := sql.Open("sqlite", filepath.Join(dir, "sandbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM remembermetoken").Scan(&n); err != nil || n != 4 {
		t.Errorf("remembermetoken rows: %d (%v), want 4", n, err)
	}

	// discover and inspect, when those verbs are there, see the same.
	home := filepath.Join(dir, "home")
	if out, errOut, code := runBin(t, "discover", "--product", "jira", "--home", home, "--json"); code == 0 {
		var d struct {
			Database struct{ Engine, Name string } `json:"database"`
		}
		if err := json.Unmarshal([]byte(out), &d); err != nil || d.Database.Engine != "sqlite" || d.Database.Name != filepath.Join(dir, "sandbox.db") {
			t.Errorf("discover --home on the sandbox: %+v %v\n%s", d, err, out)
		}
		if out, _, code := runBin(t, "inspect", "--product", "jira", "--home", home, "--json"); code == 0 {
			var i struct{ Total int }
			if err := json.Unmarshal([]byte(out), &i); err != nil || i.Total != 4 {
				t.Errorf("inspect total = %d (%v), want 4\n%s", i.Total, err, out)
			}
		} else {
			t.Logf("inspect not available yet (exit %d)", code)
		}
	} else {
		t.Logf("discover not available yet (exit %d): %s", code, errOut)
	}

	// restart-node restarts (new pid), and with ignore-restart only pretends to.
	if _, errOut, code := runBin(t, "sandbox", "restart-node", "--dir", dir, "--node", "node1"); code != 0 {
		t.Fatalf("restart-node: %d %s", code, errOut)
	}
	after := sandboxPIDs(t, dir)
	if after[0] == pids[0] || processAlive(pids[0]) {
		t.Errorf("restart-node: pid %d -> %d, old alive %v", pids[0], after[0], processAlive(pids[0]))
	}
	pids = append(pids, after[0])
	if _, _, code := runBin(t, "sandbox", "fault", "--dir", dir, "--node", "node2", "ignore-restart"); code != 0 {
		t.Fatal("fault")
	}
	out, _, code = runBin(t, "sandbox", "restart-node", "--dir", dir, "--node", "node2")
	if code != 0 || !strings.Contains(out, "restarted node2") || sandboxPIDs(t, dir)[1] != pids[1] {
		t.Errorf("ignore-restart: exit %d %q, pid %v (want unchanged %d)", code, out, sandboxPIDs(t, dir), pids[1])
	}
	if _, errOut, code := runBin(t, "sandbox", "fault", "--dir", dir, "--node", "node2", "explode"); code != 2 || !strings.Contains(errOut, "hint") {
		t.Errorf("unknown fault: exit %d %s", code, errOut)
	}

	// status --json is one object with every node RUNNING.
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, _, _ = runBin(t, "sandbox", "status", "--dir", dir, "--json")
		var st struct {
			Nodes []struct{ State string } `json:"nodes"`
		}
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("status --json: %v\n%s", err, out)
		}
		if len(st.Nodes) == 2 && st.Nodes[0].State == "RUNNING" && st.Nodes[1].State == "RUNNING" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status: %s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A run as the sandbox prints it keeps its state in the sandbox (last: it purges the tokens).
	if _, errOut, code := runBin(t, "sandbox", "fault", "--dir", dir, "--node", "node2", "none"); code != 0 {
		t.Fatalf("fault none: %d %s", code, errOut)
	}
	checkSandboxRunKeepsState(t, dir, usage)
	pids = append(pids, sandboxPIDs(t, dir)...) // the run restarted every node

	// Errors: a second up into the same dir is refused (4); down on a non-sandbox is usage (2).
	if _, _, code := runBin(t, "sandbox", "up", "--dir", dir); code != 4 {
		t.Errorf("second up: exit %d, want 4", code)
	}
	if _, _, code := runBin(t, "sandbox", "down", "--dir", t.TempDir()); code != 2 {
		t.Errorf("down on an empty dir: exit %d, want 2", code)
	}
	if _, _, code := runBin(t, "sandbox", "up", "--dir", filepath.Join(t.TempDir(), "x"), "--product", "nope"); code != 2 {
		t.Errorf("unknown product: exit %d, want 2", code)
	}

	if out, errOut, code := runBin(t, "sandbox", "down", "--dir", dir); code != 0 {
		t.Fatalf("down: %d %s %s", code, out, errOut)
	}
	for _, pid := range pids {
		if processAlive(pid) {
			t.Errorf("pid %d alive after down", pid)
		}
	}
}

// checkSandboxRunKeepsState runs the restart-mode `reauth run` line that `sandbox up` printed
// (with --yes), with HOME and XDG_STATE_HOME pointing at empty directories: the run's backup,
// journals and audit log must all be in the sandbox's state directory, none in the operator's.
func checkSandboxRunKeepsState(t *testing.T, dir, usage string) {
	t.Helper()
	var line string
	for _, l := range strings.Split(usage, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "reauth run ") && strings.Contains(l, "--mode restart") {
			line = l
		}
	}
	args := strings.Fields(line)
	if len(args) < 2 || !strings.Contains(line, "--state-dir "+filepath.Join(dir, "state")) {
		t.Fatalf("up prints no run command with --state-dir in the sandbox:\n%s", usage)
	}
	home, xdg := t.TempDir(), t.TempDir()
	out, errOut, code := testenv.Reauth(t, []string{"HOME=" + home, "XDG_STATE_HOME=" + xdg}, append(args[1:], "--yes")...)
	if code != 0 {
		t.Fatalf("%s --yes: exit %d\n%s%s", line, code, out, errOut)
	}
	// verify the morning after finds that run's journal in the same --state-dir.
	vargs := []string{"verify", "--config", filepath.Join(dir, "reauth.yaml"), "--state-dir", filepath.Join(dir, "state"), "--json"}
	out, errOut, code = testenv.Reauth(t, []string{"HOME=" + home, "XDG_STATE_HOME=" + xdg}, vargs...)
	var v struct {
		Verified bool `json:"verified"`
	}
	if err := json.Unmarshal([]byte(out), &v); code != 0 || err != nil || !v.Verified {
		t.Errorf("verify --state-dir: exit %d, verified %v (%v)\n%s%s", code, v.Verified, err, out, errOut)
	}
	for _, d := range []string{home, xdg} {
		if ents, _ := os.ReadDir(d); len(ents) != 0 {
			t.Errorf("a run on the sandbox wrote into the operator's %s: %v", d, ents)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "state", "audit.jsonl")); err != nil {
		t.Errorf("the run's audit log is not in the sandbox's state directory: %v", err)
	}
}
