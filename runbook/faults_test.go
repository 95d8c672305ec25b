package runbook_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/backup"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/runbook"
	"github.com/reauth/reauth/sqlstore"
)

func setStartTimeout(t *testing.T, cfg, d string) {
	t.Helper()
	b, _ := os.ReadFile(cfg)
	s := strings.Replace(string(b), "start_timeout: 60s", "start_timeout: "+d, 1)
	if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A node that fails to come back stops the run with exit 3: the node before it restarted, the node
// after it untouched. --resume then finishes without purging twice and verifies.
func TestRunNodeFailsThenResume(t *testing.T) {
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 3, Users: 6, RememberFraction: 1})
	bs := browsers(t, c)
	cfg := writeInventory(t, t.TempDir(), product{c: c})
	setStartTimeout(t, cfg, "12s")
	if err := c.SetFault("node2", sandbox.FaultFailNextStart); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json")
	if code != int(reauth.ExitPartial) {
		t.Fatalf("first run exited %d, want 3\n%s\n%s", code, stdout, stderr)
	}
	r := decode(t, stdout)
	got := []string{}
	for _, n := range r.Products[0].Nodes {
		got = append(got, n.Name+"="+n.Status)
	}
	if strings.Join(got, " ") != "node1=restarted node2=failed node3=untouched" {
		t.Fatalf("nodes: %v", got)
	}
	deleted := r.Deleted
	if deleted == 0 || r.Verified {
		t.Fatalf("first run: deleted=%d verified=%v", deleted, r.Verified)
	}
	if !strings.Contains(stderr, "--resume") {
		t.Errorf("the failure does not say how to continue:\n%s", stderr)
	}
	// Without --resume a second run refuses: the journal says the first did not finish.
	if _, _, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes"); code != int(reauth.ExitRefused) {
		t.Fatalf("second run without --resume exited %d, want 4", code)
	}
	stdout, stderr, code = reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--resume", "--json")
	if code != 0 {
		t.Fatalf("resume exited %d\n%s\n%s", code, stdout, stderr)
	}
	r = decode(t, stdout)
	if !r.Verified || r.Deleted != deleted || len(r.Products[0].Backups) != 1 {
		t.Fatalf("resume: verified=%v deleted=%d (first run %d) backups=%v", r.Verified, r.Deleted, deleted, r.Products[0].Backups)
	}
	got = got[:0]
	for _, n := range r.Products[0].Nodes {
		got = append(got, n.Name+"="+n.Status)
	}
	if strings.Join(got, " ") != "node1=skipped (already restarted) node2=restarted node3=restarted" {
		t.Fatalf("resume nodes: %v", got)
	}
	if still := loggedIn(t, c, bs); len(still) != 0 {
		t.Fatalf("still logged in after resume: %v", still)
	}
}

// The database connection dies in the middle of the purge: the run stops, every deleted row is in
// the backup, and --resume finishes the purge with the same cut-off and verifies.
func TestRunDBConnectionKilledMidPurge(t *testing.T) {
	pg := testenv.Postgres(t)
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 2, DB: pg.URL, Users: 4, RememberFraction: 1})
	// Old tokens: enough for many batches, of real users (the sampled ones must log in before the
	// purge to prove anything; user002 and user004 are stored by name, the odd users by key).
	if _, err := pg.SQL.Exec(`INSERT INTO remembermetoken (id, created, token, username)
		SELECT 100000 + g, now() - interval '3 days', md5(g::text), CASE WHEN g % 2 = 0 THEN 'user002' ELSE 'user004' END
		FROM generate_series(1, 60000) g`); err != nil {
		t.Fatal(err)
	}
	total := count(t, pg.SQL)
	original := tableIDs(t, pg.SQL)
	cfg := writeInventory(t, t.TempDir(), product{c: c})
	inv, err := inventory.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	killed := make(chan int, 1)
	go func() { killed <- killDeleter(ctx, pg.SQL, pg.Name) }()
	var out, errb bytes.Buffer
	_, err = runbook.Run(ctx, runbook.Options{Inventory: inv, Yes: true, Out: &out, Err: &errb, Getenv: os.Getenv, StateDir: stateDir(cfg)})
	if n := <-killed; n == 0 {
		t.Fatal("the purge finished before its connection could be killed: seed more rows")
	}
	if err == nil {
		t.Fatalf("run survived a killed connection?\n%s", out.String())
	}
	if !strings.Contains(reauth.HintOf(err)+err.Error(), "--resume") {
		t.Errorf("error does not say how to continue: %v / %s", err, reauth.HintOf(err))
	}
	// Every row that is gone is in the backup. The backup may hold a few more: a batch whose rows
	// were fsynced but whose commit died with the connection (restore skips rows that exist).
	j := readJournal(t, cfg, "jira")
	gone := missing(original, tableIDs(t, pg.SQL))
	saved := backupIDs(t, j.Backups)
	for id := range gone {
		if !saved[id] {
			t.Fatalf("row %d was deleted but is not in the backup (%d deleted, %d in the backup)", id, len(gone), len(saved))
		}
	}
	if len(gone) == 0 {
		t.Fatal("the purge deleted nothing before its connection was killed")
	}
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--resume", "--json")
	if code != 0 {
		t.Fatalf("resume exited %d\n%s\n%s", code, stdout, stderr)
	}
	r := decode(t, stdout)
	if !r.Verified || len(r.Products[0].Backups) != 2 {
		t.Fatalf("resume: verified=%v backups=%v\n%s", r.Verified, r.Products[0].Backups, stdout)
	}
	gone = missing(original, tableIDs(t, pg.SQL))
	saved = backupIDs(t, r.Products[0].Backups)
	for id := range gone {
		if !saved[id] {
			t.Fatalf("row %d was deleted but is in neither backup", id)
		}
	}
	if n := count(t, pg.SQL); n != 0 || len(gone) != total {
		t.Fatalf("after resume: %d rows left, %d of %d gone", n, len(gone), total)
	}
}

// killDeleter terminates the backend that runs the purge's DELETE, once, and returns its pid.
func killDeleter(ctx context.Context, db *sql.DB, dbname string) int {
	for ctx.Err() == nil {
		var pid int
		err := db.QueryRowContext(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND state = 'active'
			AND query ILIKE '%remembermetoken%' AND query NOT ILIKE '%WHERE 1 = 0%'
			AND (query ILIKE 'DELETE%' OR query ILIKE '%FOR UPDATE%') LIMIT 1`, dbname).Scan(&pid)
		if err == nil {
			var sent bool
			// Seeing the query does not mean the purge has started deleting: wait for a row to go.
			_ = db.QueryRowContext(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&sent)
			if sent {
				return pid
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 0
}

func count(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM remembermetoken`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

type journal struct {
	Phase    string   `json:"phase"`
	CutoffID int64    `json:"cutoff_id"`
	Backups  []string `json:"backups"`
}

func readJournal(t *testing.T, cfg, product string) journal {
	t.Helper()
	b, err := os.ReadFile(stateDir(cfg).RunJournal(cfg, product))
	if err != nil {
		t.Fatal(err)
	}
	var j journal
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	return j
}

// backupIDs reads the ids of the rows in backup files, accepting a file cut short by a failure.
func backupIDs(t *testing.T, paths []string) map[int64]bool {
	t.Helper()
	ids := map[int64]bool{}
	for _, p := range paths {
		r, err := backup.Open(p)
		if err != nil {
			t.Fatalf("open backup %s: %v", p, err)
		}
		idx := -1
		for i, c := range r.Manifest().Columns {
			if c.Name == r.Manifest().IDColumn {
				idx = i
			}
		}
		for {
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("read backup %s: %v", p, err)
			}
			ids[toID(t, row[idx])] = true
		}
		r.Close()
	}
	return ids
}

func toID(t *testing.T, v any) int64 {
	t.Helper()
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			t.Fatalf("id %q: %v", x, err)
		}
		return n
	}
	t.Fatalf("id of type %T", v)
	return 0
}

func tableIDs(t *testing.T, db *sql.DB) map[int64]bool {
	t.Helper()
	rows, err := db.Query(`SELECT id::bigint FROM remembermetoken`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	ids := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[id] = true
	}
	return ids
}

// missing lists the ids of before that are not in after.
func missing(before, after map[int64]bool) map[int64]bool {
	out := map[int64]bool{}
	for id := range before {
		if !after[id] {
			out[id] = true
		}
	}
	return out
}

// While another run holds the database's lock, run refuses with exit 5 and changes nothing.
func TestRunLockHeld(t *testing.T) {
	pg := testenv.Postgres(t)
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 1, DB: pg.URL, Users: 2})
	cfg := writeInventory(t, t.TempDir(), product{c: c})
	jira, _ := atlassian.Lookup("jira")
	st, err := sqlstore.Open(context.Background(), reauth.Database{Engine: reauth.Postgres, Host: pg.Host, Port: pg.Port,
		Name: pg.Name, User: pg.User, Password: reauth.NewSecret(pg.Pass), Params: map[string]string{"sslmode": "disable"}}, jira, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	release, err := st.Lock(context.Background(), "other run")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	before := count(t, pg.SQL)
	_, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes")
	if code != int(reauth.ExitLocked) {
		t.Fatalf("exit %d, want 5\n%s", code, stderr)
	}
	if count(t, pg.SQL) != before {
		t.Fatal("rows deleted while another run held the lock")
	}
}

// A bad inventory is a usage error (exit 2) that names the line, and nothing is touched.
func TestRunBadInventory(t *testing.T) {
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 1, Users: 2})
	cfg := writeInventory(t, t.TempDir(), product{c: c})
	b, _ := os.ReadFile(cfg)
	bad := strings.Replace(string(b), "    nodes:\n", "    nodez: 1\n    nodes:\n", 1)
	if err := os.WriteFile(cfg, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	pids := c.PIDs()
	_, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes")
	if code != int(reauth.ExitUsage) || !strings.Contains(stderr, "nodez") || !strings.Contains(stderr, "reauth.yaml:10:") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if got := c.PIDs(); fmt.Sprint(got) != fmt.Sprint(pids) {
		t.Fatalf("nodes restarted by a bad inventory: %v -> %v", pids, got)
	}
}

// --dry-run reads everything, prints the plan, and deletes and restarts nothing.
func TestRunDryRun(t *testing.T) {
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 2, Users: 4, RememberFraction: 1})
	bs := browsers(t, c)
	cfg := writeInventory(t, t.TempDir(), product{c: c, exclude: []string{"user001"}})
	pids := c.PIDs()
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"4 token(s) to delete", "excluded: user001", "node1", "node2", "Dry run"} {
		if !strings.Contains(stdout, want) && !strings.Contains(stdout, strings.Replace(want, "4", "3", 1)) {
			t.Errorf("plan lacks %q:\n%s", want, stdout)
		}
	}
	if got := c.PIDs(); fmt.Sprint(got) != fmt.Sprint(pids) {
		t.Fatalf("dry run restarted nodes: %v -> %v", pids, got)
	}
	if n := len(loggedIn(t, c, bs)); n != len(bs) {
		t.Fatalf("dry run logged out browsers: %d of %d left", n, len(bs))
	}
	// Without --yes and without a terminal, a real run refuses.
	if _, _, code := reauthCmd(t, nil, "run", "--config", cfg); code != int(reauth.ExitRefused) {
		t.Fatalf("run without --yes and without a terminal exited %d, want 4", code)
	}
}

// An empty token table (nobody ticked remember-me): the run deletes nothing, writes no backup,
// still restarts the nodes (sessions live in memory) and verifies. The cut-off is then 0, which
// must not be read as "the highest id when the purge starts".
func TestRunEmptyTokenTable(t *testing.T) {
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 2, Users: 3, RememberFraction: -1})
	bs := browsers(t, c)
	cfg := writeInventory(t, t.TempDir(), product{c: c, proofUser: "admin"}) // the proof token is the only row
	pids := c.PIDs()
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	r := decode(t, stdout)
	if r.Deleted != 0 || r.NodesRestarted != 2 || !r.Verified || len(r.Products) != 1 || len(r.Products[0].Backups) != 0 ||
		r.Proof.Level != "cookies" || r.Products[0].Verify.Proof.Minted == nil || !r.Products[0].Verify.Proof.Minted.Removed {
		t.Fatalf("run on an empty token table: %+v\n%s", r, stderr)
	}
	if !strings.Contains(stderr, "nothing to purge") {
		t.Errorf("stderr does not say there was nothing to purge:\n%s", stderr)
	}
	if got := c.PIDs(); fmt.Sprint(got) == fmt.Sprint(pids) {
		t.Fatalf("nodes not restarted: %v", got)
	}
	if n := len(loggedIn(t, c, bs)); n != 0 {
		t.Fatalf("%d browsers still logged in after the restart", n)
	}
}
