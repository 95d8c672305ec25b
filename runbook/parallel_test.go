package runbook_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/audit"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/runbook"
)

// span is when something began and ended.
type span struct{ from, to time.Time }

func (a span) overlaps(b span) bool { return a.from.Before(b.to) && b.from.Before(a.to) }

// runAudit reads the audit lines of the last run in path.
func runAudit(t *testing.T, path string) []audit.Entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	es, err := audit.Read(f)
	if err != nil || len(es) == 0 {
		t.Fatalf("audit log %s: %v (%d lines)", path, err, len(es))
	}
	last := es[len(es)-1].RunID
	var out []audit.Entry
	for _, e := range es {
		if e.RunID == last {
			out = append(out, e)
		}
	}
	return out
}

// stepSpan is the time from product's first `from` line to its last `to` line.
func stepSpan(t *testing.T, es []audit.Entry, product, from, to string) span {
	t.Helper()
	var s span
	for _, e := range es {
		if e.Product != product {
			continue
		}
		if e.Step == from && s.from.IsZero() {
			s.from = e.Time
		}
		if e.Step == to {
			s.to = e.Time
		}
	}
	if s.from.IsZero() || s.to.IsZero() || s.to.Before(s.from) {
		t.Fatalf("%s: no %s → %s in the audit log", product, from, to)
	}
	return s
}

// nodeSpans is every node's restart (first phase line to restarted/failed), per node, in order.
func nodeSpans(es []audit.Entry, product string) []span {
	open := map[string]time.Time{}
	var out []span
	for _, e := range es {
		if e.Product != product || e.Step != "node" {
			continue
		}
		var node string
		e.Get("node", &node)
		if _, ok := open[node]; !ok && e.Outcome != "skipped" {
			open[node] = e.Time
		}
		if e.Outcome == "restarted" || e.Outcome == "failed" {
			out = append(out, span{open[node], e.Time})
			delete(open, node)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].from.Before(out[j].from) })
	return out
}

// oneAtATime fails when two of a product's node restarts overlap.
func oneAtATime(t *testing.T, es []audit.Entry, product string, nodes int) {
	t.Helper()
	ss := nodeSpans(es, product)
	if len(ss) != nodes {
		t.Fatalf("%s: %d node restarts in the audit log, want %d", product, len(ss), nodes)
	}
	for i := 1; i < len(ss); i++ {
		if ss[i].from.Before(ss[i-1].to) {
			t.Fatalf("%s: two nodes restarting at once: %v and %v", product, ss[i-1], ss[i])
		}
	}
}

// seedJira adds n old remember-me tokens to a sandbox Jira's PostgreSQL table (a purge long
// enough to be seen overlapping, or not).
func seedJira(t *testing.T, db *testenv.DB, n int) {
	t.Helper()
	if _, err := db.SQL.Exec(fmt.Sprintf(`INSERT INTO remembermetoken (id, created, token, username)
		SELECT 100000 + g, now() - interval '3 days', md5(g::text), 'user001' FROM generate_series(1, %d) g`, n)); err != nil {
		t.Fatal(err)
	}
}

// seedBitbucket adds n old remember-me tokens of user 1 to a sandbox Bitbucket's PostgreSQL table.
func seedBitbucket(t *testing.T, db *testenv.DB, n int) {
	t.Helper()
	if _, err := db.SQL.Exec(fmt.Sprintf(`INSERT INTO sta_remember_me_token (id, series, token, user_id, expiry_timestamp, claimed)
		SELECT 100000 + g, md5('s' || g), md5('t' || g), 1, now() + interval '20 days', false FROM generate_series(1, %d) g`, n)); err != nil {
		t.Fatal(err)
	}
}

func mariaURL(my *testenv.DB) string {
	return "mysql://" + my.User + ":" + my.Pass + "@127.0.0.1:" + strconv.Itoa(my.Port) + "/" + my.Name
}

// Three products at once: Jira (3 nodes) and Bitbucket (2) on one PostgreSQL server, Confluence
// (2) on MariaDB. Products on different servers work at the same time (their restarts overlap);
// each restarts its own nodes one at a time; the two on one PostgreSQL server purge one after the
// other. Every product ends done and verified.
func TestRunProductsAtOnce(t *testing.T) {
	pgJira, pgBB, my := testenv.Postgres(t), testenv.Postgres(t), testenv.MariaDB(t)
	slow := 1500 * time.Millisecond
	jira := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 3, DB: pgJira.URL, Users: 4, StartupDelay: slow})
	bb := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Bitbucket, Nodes: 2, DB: pgBB.URL, Users: 4, StartupDelay: slow})
	conf := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Confluence, Nodes: 2, DB: mariaURL(my), Users: 4, StartupDelay: slow})
	seedJira(t, pgJira, 40000)
	seedBitbucket(t, pgBB, 40000)
	dir := t.TempDir()
	cfg := writeInventory(t, dir, product{c: jira, proofUser: "admin"}, product{c: bb, proofUser: "admin"}, product{c: conf, proofUser: "admin"})
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	r := decode(t, stdout)
	for _, p := range r.Products {
		if p.Status != "done" || !p.Verify.Verified {
			t.Fatalf("%s: %s, verified %v\n%s", p.Product, p.Status, p.Verify.Verified, stderr)
		}
	}
	es := runAudit(t, filepath.Join(dir, "audit.jsonl"))
	oneAtATime(t, es, "jira", 3)
	oneAtATime(t, es, "bitbucket", 2)
	oneAtATime(t, es, "confluence", 2)
	// Jira and Confluence (different servers) restart at the same time.
	jr, cr := stepSpan(t, es, "jira", "node", "restart"), stepSpan(t, es, "confluence", "node", "restart")
	if !jr.overlaps(cr) {
		t.Errorf("jira's restart %v and confluence's %v do not overlap: the products ran one after another", jr, cr)
	}
	// Jira and Bitbucket (one PostgreSQL server) never purge at once.
	jp, bp := stepSpan(t, es, "jira", "purge_start", "purge"), stepSpan(t, es, "bitbucket", "purge_start", "purge")
	if jp.overlaps(bp) {
		t.Errorf("jira's purge %v and bitbucket's %v overlap on one database server", jp, bp)
	}
	// Plain progress (not a terminal): one line per update, each naming its product.
	for _, want := range []string{"jira: node1 (1/3) restarting", "confluence: node2 (2/2) restarted after", "bitbucket: purge"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("progress has no %q line:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stderr, "waiting before its purge") {
		t.Errorf("the product waiting for the database server does not say so:\n%s", stderr)
	}
}

// One product fails (a Jira node never comes back) while another (Confluence) completes: the
// failure does not stop Confluence mid-way; the exit code (3, Jira's partial restart) and the
// report say which ended how. --resume then finishes Jira only: Confluence is not touched again.
func TestRunOneProductFailsOthersFinish(t *testing.T) {
	my := testenv.MariaDB(t)
	jira := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 2, Users: 4, RememberFraction: 1})
	conf := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Confluence, Nodes: 2, DB: mariaURL(my), Users: 4, StartupDelay: 1500 * time.Millisecond})
	cbs := browsers(t, conf)
	dir := t.TempDir()
	cfg := writeInventory(t, dir, product{c: jira, proofUser: "admin"}, product{c: conf, proofUser: "admin"})
	setStartTimeout(t, cfg, "12s")
	if err := jira.SetFault("node1", sandbox.FaultFailNextStart); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json")
	if code != int(reauth.ExitFailed) {
		t.Fatalf("exit %d, want 1 (jira's first node failed)\n%s\n%s", code, stdout, stderr)
	}
	if got := productStatuses(decode(t, stdout)); got != "jira=failed confluence=done" {
		t.Fatalf("statuses %s, want jira failed and confluence done\n%s", got, stderr)
	}
	if r := decode(t, stdout); r.Products[0].ExitCode != 1 || r.Products[1].ExitCode != 0 {
		t.Fatalf("per-product exit codes: jira %d, confluence %d", r.Products[0].ExitCode, r.Products[1].ExitCode)
	}
	if still := loggedIn(t, conf, cbs); len(still) != 0 {
		t.Fatalf("confluence users still logged in after its run: %v", still)
	}
	confPIDs := conf.PIDs()
	stdout, stderr, code = reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--resume", "--json")
	if code != 0 {
		t.Fatalf("resume exited %d\n%s\n%s", code, stdout, stderr)
	}
	if got := productStatuses(decode(t, stdout)); got != "jira=done confluence="+runbook.StatusSkipped {
		t.Fatalf("resume statuses %s, want jira done and confluence skipped", got)
	}
	if got := conf.PIDs(); fmt.Sprint(got) != fmt.Sprint(confPIDs) {
		t.Fatalf("resume restarted confluence again: %v -> %v", confPIDs, got)
	}
}

// Several inventories: --config twice runs both files' products; an include: list does the same;
// an include cycle and one product home in two files are refused (exit 2) naming the files, and
// change nothing: no node restarted, no audit line, no journal.
func TestRunSeveralInventories(t *testing.T) {
	jira := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 1, Users: 2, RememberFraction: 1})
	conf := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Confluence, Nodes: 1, Users: 2, RememberFraction: 1})
	root := t.TempDir()
	for _, d := range []string{"a", "b", "dup"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	a := writeInventory(t, filepath.Join(root, "a"), product{c: jira, proofUser: "admin"})
	b := writeInventory(t, filepath.Join(root, "b"), product{c: conf, proofUser: "admin"})
	rewrite(t, b, func(s string) string { // one run, one audit log: b leaves it to the first file
		return strings.Replace(s, "  audit_log: "+filepath.Join(root, "b", "audit.jsonl")+"\n", "", 1)
	})
	auditLog := filepath.Join(root, "a", "audit.jsonl")

	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", a, "--config", b, "--yes", "--json")
	if code != 0 {
		t.Fatalf("--config twice: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := productStatuses(decode(t, stdout)); got != "jira=done confluence=done" {
		t.Fatalf("--config twice: %s", got)
	}
	es := runAudit(t, auditLog)
	stepSpan(t, es, "jira", "lock", "verify")
	stepSpan(t, es, "confluence", "lock", "verify")

	estate := filepath.Join(root, "estate.yaml")
	if err := os.WriteFile(estate, []byte("defaults: {audit_log: a/audit.jsonl}\ninclude: [a/reauth.yaml, b/reauth.yaml]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = reauthCmd(t, nil, "run", "--config", estate, "--yes", "--json", "--parallel", "1")
	if code != 0 {
		t.Fatalf("include: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := productStatuses(decode(t, stdout)); got != "jira=done confluence=done" {
		t.Fatalf("include: %s", got)
	}
	es = runAudit(t, auditLog)
	if j, c := stepSpan(t, es, "jira", "lock", "verify"), stepSpan(t, es, "confluence", "lock", "verify"); j.overlaps(c) {
		t.Errorf("--parallel 1: jira %v and confluence %v overlap", j, c)
	}

	// Refusals change nothing.
	cyc1, cyc2, dup := filepath.Join(root, "cyc1.yaml"), filepath.Join(root, "cyc2.yaml"), filepath.Join(root, "dup", "reauth.yaml")
	writeFile(t, cyc1, "include: [cyc2.yaml]\n")
	writeFile(t, cyc2, "include: [cyc1.yaml, a/reauth.yaml]\n")
	writeInventory(t, filepath.Join(root, "dup"), product{c: jira})
	rewrite(t, dup, func(s string) string {
		return strings.Replace(s, "  audit_log: "+filepath.Join(root, "dup", "audit.jsonl")+"\n", "", 1)
	})
	pids := fmt.Sprint(jira.PIDs(), conf.PIDs())
	before, _ := os.ReadFile(auditLog)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--config", cyc1}, []string{"include cycle", "cyc1.yaml → ", "cyc2.yaml → "}},
		{[]string{"--config", a, "--config", dup}, []string{"product home " + jira.Home() + " is listed twice", a + ":", dup + ":"}},
		{[]string{"--config", a, "--config", a}, []string{"read twice", a}},
	} {
		stdout, stderr, code := reauthCmd(t, nil, append(append([]string{"run"}, tc.args...), "--yes")...)
		if code != int(reauth.ExitUsage) {
			t.Fatalf("%v: exit %d, want 2\n%s\n%s", tc.args, code, stdout, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr does not say %q:\n%s", tc.args, w, stderr)
			}
		}
		if !strings.Contains(stderr, "hint:") {
			t.Errorf("%v: no hint:\n%s", tc.args, stderr)
		}
	}
	after, _ := os.ReadFile(auditLog)
	if got := fmt.Sprint(jira.PIDs(), conf.PIDs()); got != pids || len(after) != len(before) {
		t.Fatalf("a refused run changed something: pids %s -> %s, audit log %d -> %d bytes", pids, got, len(before), len(after))
	}
}

func productStatuses(r runJSON) string {
	var s []string
	for _, p := range r.Products {
		s = append(s, p.Product+"="+p.Status)
	}
	return strings.Join(s, " ")
}

func rewrite(t *testing.T, path string, f func(string) string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, f(string(b)))
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// In process (and so under -race in CI): two products at once on a terminal: both done, the
// progress drawn as one line per product, redrawn in place.
func TestRunAtOnceLiveProgress(t *testing.T) {
	jira := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 2, Users: 2})
	conf := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Confluence, Nodes: 1, Users: 2})
	cfg := writeInventory(t, t.TempDir(), product{c: jira, proofUser: "admin"}, product{c: conf, proofUser: "admin"})
	inv, err := inventory.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	rep, err := runbook.Run(ctx, runbook.Options{Inventory: inv, Yes: true, Mode: "restart", Out: &out, Err: &errb, Live: true,
		Getenv: os.Getenv, StateDir: stateDir(cfg)})
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, out.String(), errb.String())
	}
	if got := rep.Products[0].Status + " " + rep.Products[1].Status; got != "done done" {
		t.Fatalf("statuses %s", got)
	}
	live := errb.String()
	if !strings.Contains(live, "\x1b[2A") || !strings.Contains(live, "\x1b[2K  jira             node2 (2/2) restarting") ||
		!strings.Contains(live, "\x1b[2K  confluence       done") {
		t.Fatalf("no live product lines:\n%q", live)
	}
}
