package runbook_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/runbook"
	"github.com/reauth/reauth/sqlstore"
)

// The run lock is held from preflight to the report: while the operator reads the plan and
// confirms, a second run on the same database is refused (exit 5).
func TestRunHoldsLockThroughConfirmation(t *testing.T) {
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 1, Users: 2})
	cfg := writeInventory(t, t.TempDir(), product{c: c})
	inv, err := inventory.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var second error
	confirm := func(prompt, expect string) (bool, error) {
		// Another operator starts a run while this one waits at the prompt.
		prod, _ := atlassian.Lookup(string(c.Product()))
		st, _, err := runbook.OpenStore(ctx, inv, &inv.Products[0], prod, os.Getenv, nil)
		if err != nil {
			return false, err
		}
		defer st.Close()
		rel, err := st.Lock(ctx, "second run")
		if err == nil {
			rel()
		}
		second = err
		return false, nil // and this one is not confirmed: nothing changes
	}
	var out bytes.Buffer
	_, err = runbook.Run(ctx, runbook.Options{Inventory: inv, Confirm: confirm, Out: &out, Err: &out, Getenv: os.Getenv})
	if reauth.CodeOf(err) != reauth.ExitRefused {
		t.Fatalf("unconfirmed run: %v (code %d)", err, reauth.CodeOf(err))
	}
	if reauth.CodeOf(second) != reauth.ExitLocked {
		t.Fatalf("a second run during the confirmation got %v (code %d), want exit 5: the lock was not held from preflight", second, reauth.CodeOf(second))
	}
}

// The lock's database session is killed while the first node restarts (a DBA, an idle timeout,
// a failover): the run stops before the next node, says why and how to continue, and --resume
// finishes the job.
func TestRunLockLostBetweenNodes(t *testing.T) {
	pg := testenv.Postgres(t)
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 2, DB: pg.URL, Users: 4, RememberFraction: 1})
	cfg := writeInventory(t, t.TempDir(), product{c: c})
	// node1's drain hook ends the session that holds the run's advisory lock.
	kill := fmt.Sprintf(`[ "$REAUTH_NODE" != node1 ] || psql %q -qAtc "SELECT pg_terminate_backend(pid) FROM pg_locks `+
		`WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = '%s')"`, pg.URL, pg.Name)
	b, _ := os.ReadFile(cfg)
	s := strings.Replace(string(b), "    nodes:\n", "    drain: {before: "+quoteYAML(kill)+"}\n    nodes:\n", 1)
	if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json")
	if code != int(reauth.ExitPartial) {
		t.Fatalf("run exited %d, want 3 (node1 restarted, then the lock was lost)\n%s\n%s", code, stdout, stderr)
	}
	r := decode(t, stdout)
	var got []string
	for _, n := range r.Products[0].Nodes {
		got = append(got, n.Name+"="+n.Status)
	}
	if strings.Join(got, " ") != "node1=restarted node2=untouched" {
		t.Fatalf("nodes: %v", got)
	}
	if !strings.Contains(stdout+stderr, sqlstore.ErrLockLost.Error()) || !strings.Contains(stdout+stderr, "--resume") {
		t.Fatalf("the failure does not say the lock was lost and how to continue:\n%s\n%s", stdout, stderr)
	}
	stdout, stderr, code = reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--resume", "--json")
	if code != 0 {
		t.Fatalf("resume exited %d\n%s\n%s", code, stdout, stderr)
	}
	if r := decode(t, stdout); r.Products[0].Nodes[1].Status != "restarted" || !strings.HasPrefix(r.Products[0].Nodes[0].Status, "skipped") {
		t.Fatalf("resume: nodes %+v", r.Products[0].Nodes)
	}
}

// quoteYAML writes s as a double-quoted YAML scalar.
func quoteYAML(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
