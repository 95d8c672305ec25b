package runbook_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
)

// Bitbucket with hazelcast.http.sessions=replicated, on PostgreSQL: the sessions live in the
// cluster's map, which a rolling restart never empties. The rolling run is refused before
// anything changes (exit 4: token rows intact, no node restarted, every browser still in), and
// the full stop (every node down at once) ends every session and verifies.
func TestBitbucketReplicatedSessions(t *testing.T) {
	pg := testenv.Postgres(t)
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Bitbucket, Nodes: 2, DB: pg.URL, Users: 6, RememberFraction: 0.5,
		HazelcastSessions: sandbox.HazelcastReplicated})
	dir := t.TempDir()
	cfg := writeInventory(t, dir, product{c: c, proofUser: "admin", stopStart: true})
	bs := browsers(t, c)
	if in := loggedIn(t, c, bs); len(in) != len(bs) {
		t.Fatalf("only %d of %d browsers logged in before the run", len(in), len(bs))
	}
	rows := func() int {
		var n int
		if err := pg.SQL.QueryRow("SELECT COUNT(*) FROM sta_remember_me_token").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	rowsBefore, pidsBefore := rows(), c.PIDs()

	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json")
	if code != 4 {
		t.Fatalf("rolling restart of replicated sessions: exit %d, want 4\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	for _, want := range []string{"hazelcast.http.sessions=replicated", filepath.Join(c.Home(), "shared", "bitbucket.properties"), "--restart-strategy full", "nothing was changed"} {
		if !strings.Contains(stdout+stderr, want) {
			t.Errorf("the refusal does not say %q:\n%s%s", want, stdout, stderr)
		}
	}
	if n := rows(); n != rowsBefore {
		t.Errorf("token rows %d after the refusal, were %d", n, rowsBefore)
	}
	for name, pid := range c.PIDs() {
		if pid != pidsBefore[name] {
			t.Errorf("%s restarted by a refused run (pid %d → %d)", name, pidsBefore[name], pid)
		}
	}
	if in := loggedIn(t, c, bs); len(in) != len(bs) {
		t.Errorf("a refused run logged out %d browser(s)", len(bs)-len(in))
	}

	stdout, stderr, code = reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json", "--restart-strategy", "full")
	if code != 0 {
		t.Fatalf("full stop: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	r := decode(t, stdout)
	if !r.Verified || r.NodesRestarted != 2 || r.Deleted == 0 {
		t.Fatalf("verified=%v nodes_restarted=%d deleted=%d\n%s", r.Verified, r.NodesRestarted, r.Deleted, stdout)
	}
	if !strings.Contains(stdout, `"restart_strategy": "full"`) {
		t.Errorf("--json lacks the strategy: %s", stdout)
	}
	for name, b := range bs {
		for _, n := range c.Nodes() {
			if who, ok, _ := b.WhoAmI(t.Context(), n.URL); ok {
				t.Errorf("%s's browser still logged in on %s as %q after the full stop", name, n.Name, who)
			}
		}
	}
	audit, _ := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	if !strings.Contains(string(audit), `"step":"all_down"`) {
		t.Errorf("the audit log does not record the moment every node was down")
	}
}

// Bitbucket with the default node-local sessions: the rolling restart works as before.
func TestBitbucketLocalSessionsRolling(t *testing.T) {
	pg := testenv.Postgres(t)
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Bitbucket, Nodes: 2, DB: pg.URL, Users: 4, RememberFraction: 0.5,
		HazelcastSessions: sandbox.HazelcastLocal})
	cfg := writeInventory(t, t.TempDir(), product{c: c, proofUser: "admin"})
	bs := browsers(t, c)
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json")
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	r := decode(t, stdout)
	if !r.Verified || r.NodesRestarted != 2 || !strings.Contains(stdout, `"restart_strategy": "rolling"`) {
		t.Fatalf("verified=%v nodes_restarted=%d\n%s", r.Verified, r.NodesRestarted, stdout)
	}
	if in := loggedIn(t, c, bs); len(in) != 0 {
		t.Errorf("still logged in: %v", in)
	}
}

// Tomcat persists sessions (the sandbox's server.xml says SESSIONS.ser): without
// --clear-persisted-sessions the run is refused with the file and line to change; with it, the
// plan says which files go, and the --json node entries and the audit log (one line per removal)
// record them.
func TestClearPersistedSessionsRecorded(t *testing.T) {
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 2, Users: 4, RememberFraction: 0.5, Persistence: true})
	dir := t.TempDir()
	cfg := writeInventory(t, dir, product{c: c, proofUser: "admin", stopStart: true})
	bs := browsers(t, c)

	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes")
	if code != 4 {
		t.Fatalf("persistence on, no flag: exit %d\n%s%s", code, stdout, stderr)
	}
	serverXML := filepath.Join(c.Nodes()[0].Dir, "conf", "server.xml")
	line := 0
	xml, _ := os.ReadFile(serverXML)
	for i, l := range strings.Split(string(xml), "\n") {
		if strings.Contains(l, "<Manager") {
			line = i + 1
		}
	}
	if want := fmt.Sprintf(`set pathname="" on the existing <Manager> at %s:%d`, serverXML, line); !strings.Contains(stdout+stderr, want) {
		t.Errorf("the refusal does not say %q:\n%s%s", want, stdout, stderr)
	}

	stdout, stderr, code = reauthCmd(t, nil, "run", "--config", cfg, "--dry-run", "--clear-persisted-sessions")
	if code != 0 {
		t.Fatalf("dry run: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, n := range c.Nodes() {
		ser := filepath.Join(n.Dir, "work", "Catalina", "localhost", "ROOT", "SESSIONS.ser")
		if !strings.Contains(stdout, "while it is down: remove "+ser) {
			t.Errorf("the plan does not say %s goes:\n%s", ser, stdout)
		}
	}

	stdout, stderr, code = reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json", "--clear-persisted-sessions")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	var r struct {
		Verified bool `json:"verified"`
		Products []struct {
			SessionFiles map[string][]string `json:"session_files"`
			Nodes        []struct {
				Name         string   `json:"name"`
				SessionFiles []string `json:"session_files_removed"`
			} `json:"nodes"`
		} `json:"products"`
	}
	if err := decodeInto(t, stdout, &r); err != nil {
		t.Fatal(err)
	}
	if !r.Verified || len(r.Products) != 1 || len(r.Products[0].Nodes) != 2 {
		t.Fatalf("%s", stdout)
	}
	audit, _ := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	for _, n := range r.Products[0].Nodes {
		ser := filepath.Join(filepath.Dir(filepath.Dir(serverXML)), "..", n.Name, "work", "Catalina", "localhost", "ROOT", "SESSIONS.ser")
		ser = filepath.Clean(ser)
		if len(n.SessionFiles) != 1 || n.SessionFiles[0] != ser {
			t.Errorf("%s: --json says it removed %q, want [%s]", n.Name, n.SessionFiles, ser)
		}
		if f := r.Products[0].SessionFiles[n.Name]; len(f) != 1 || f[0] != ser {
			t.Errorf("%s: planned files %q", n.Name, f)
		}
	}
	if k := strings.Count(string(audit), `"outcome":"sessions-cleared"`); k != 2 {
		t.Errorf("the audit log has %d sessions-cleared lines, want one per node", k)
	}
	if in := loggedIn(t, c, bs); len(in) != 0 {
		t.Errorf("still logged in after the run: %v", in)
	}
}
