package runbook_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
	"github.com/reauth/reauth/runbook"
)

// runJSON is the part of `reauth run --json` the tests read.
type runJSON struct {
	Deleted            int64            `json:"deleted"`
	NodesRestarted     int              `json:"nodes_restarted"`
	SessionsBefore     int              `json:"sessions_before"`
	SessionsValidAfter int              `json:"sessions_valid_after"`
	Verified           bool             `json:"verified"`
	Proof              runbook.RunProof `json:"proof"`
	Products           []struct {
		Product  string   `json:"product"`
		Status   string   `json:"status"`
		ExitCode int      `json:"exit_code"`
		Deleted  int64    `json:"deleted"`
		Backups  []string `json:"backups"`
		Verify   struct {
			Verified        bool                `json:"verified"`
			TokensRemaining int64               `json:"tokens_remaining"`
			Proof           runbook.ProofReport `json:"proof"`
		} `json:"verify"`
		Nodes []struct {
			Name      string `json:"name"`
			Restarted bool   `json:"restarted"`
			WentDown  bool   `json:"went_down"`
			Status    string `json:"status"`
		} `json:"nodes"`
	} `json:"products"`
}

func decode(t *testing.T, stdout string) runJSON {
	t.Helper()
	var r runJSON
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("--json output is not one JSON object: %v\n%s", err, stdout)
	}
	return r
}

// The whole job on five products at once: Jira (3 nodes, PostgreSQL), Confluence (2, MariaDB),
// Bitbucket (2, PostgreSQL), Bamboo (1, SQLite, restarted over the real sshd) and Fisheye (1,
// SQLite). Afterwards every pre-run browser is logged out except the excluded account's, a fresh
// login works, and the run says it verified all of it.
func TestRunFiveProducts(t *testing.T) {
	pgJira, my, pgBB := testenv.Postgres(t), testenv.MariaDB(t), testenv.Postgres(t)
	mysqlURL := "mysql://" + my.User + ":" + my.Pass + "@127.0.0.1:" + strconv.Itoa(my.Port) + "/" + my.Name
	ps := []product{
		{c: sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 3, DB: pgJira.URL, Users: 8, RememberFraction: 0.5}), exclude: []string{"user002"}, proofUser: "admin"},
		{c: sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Confluence, Nodes: 2, DB: mysqlURL, Users: 6, RememberFraction: 0.5}), proofUser: "admin"},
		{c: sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Bitbucket, Nodes: 2, DB: pgBB.URL, Users: 6, RememberFraction: 0.5}), proofUser: "admin"},
		{c: sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Bamboo, Nodes: 1, Users: 4, RememberFraction: 0.5}), ssh: true, proofUser: "admin"},
		{c: sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Fisheye, Nodes: 1, Users: 4, RememberFraction: 0.5}), table: "fe_remember_me", proofUser: "admin"},
	}
	before := map[string][]string{}
	all := map[string]map[string]*sandbox.Browser{}
	for _, p := range ps {
		bs := browsers(t, p.c)
		all[string(p.c.Product())] = bs
		before[string(p.c.Product())] = loggedIn(t, p.c, bs)
		if len(before[string(p.c.Product())]) != len(bs) {
			t.Fatalf("%s: only %d of %d browsers logged in before the run", p.c.Product(), len(before[string(p.c.Product())]), len(bs))
		}
	}
	cfg := writeInventory(t, t.TempDir(), ps...)
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json")
	if code != 0 {
		t.Fatalf("run exited %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	r := decode(t, stdout)
	if !r.Verified || r.NodesRestarted != 9 || r.Deleted == 0 {
		t.Fatalf("report: verified=%v nodes_restarted=%d deleted=%d\n%s", r.Verified, r.NodesRestarted, r.Deleted, stdout)
	}
	for _, p := range ps {
		id := string(p.c.Product())
		after := loggedIn(t, p.c, all[id])
		sort.Strings(after)
		want := ""
		if id == "jira" {
			want = "user002" // excluded, and it had remember-me: logged straight back in
		}
		if strings.Join(after, ",") != want {
			t.Errorf("%s: still logged in after the run: %v, want [%s]", id, after, want)
		}
		fresh := sandbox.NewBrowser()
		url := p.c.Nodes()[0].URL
		if err := fresh.Login(context.Background(), url, "user003", sandbox.UserPassword, true); err != nil {
			t.Errorf("%s: fresh login: %v", id, err)
		} else if who, ok, _ := fresh.WhoAmI(context.Background(), url); !ok || who != "user003" {
			t.Errorf("%s: fresh login not accepted (who=%q ok=%v)", id, who, ok)
		}
	}
	// No canary, no --cookies: the proof is the minted token and the sampled tokens, replayed on
	// every node before (accepted) and after (rejected).
	if r.Proof.Level != "cookies" {
		t.Errorf("run proof level %q, want cookies", r.Proof.Level)
	}
	for _, pr := range r.Products {
		if pr.Status != "done" || len(pr.Backups) != 1 {
			t.Errorf("%s: status %q backups %v", pr.Product, pr.Status, pr.Backups)
		}
		pf := pr.Verify.Proof
		if pf.Level != "cookies" || pf.Sources["sampled"] == 0 || pf.Sources["minted"] != 1 || pf.Minted == nil || !pf.Minted.Removed ||
			len(pf.Minted.AcceptedBefore) != len(pr.Nodes) || len(pf.Minted.RejectedAfter) != len(pr.Nodes) || pf.Minted.RowID >= 0 {
			t.Errorf("%s: proof %+v minted %+v", pr.Product, pf, pf.Minted)
		}
		for _, n := range pf.Nodes {
			if n.AcceptedBefore != pf.CookiesReplayed || n.RejectedAfter != pf.CookiesReplayed || n.AcceptedAfter != 0 ||
				!n.Restart.SeenDown || n.Restart.SessionsChecked == 0 || n.Restart.SessionsRejected != n.Restart.SessionsChecked {
				t.Errorf("%s/%s: node proof %+v", pr.Product, n.Node, n)
			}
		}
		for _, n := range pr.Nodes {
			if !n.Restarted || !n.WentDown {
				t.Errorf("%s/%s: restarted=%v went_down=%v", pr.Product, n.Name, n.Restarted, n.WentDown)
			}
		}
	}
	// The audit log: one line per step, 0600, no secret.
	st, err := os.Stat(filepath.Join(filepath.Dir(cfg), "audit.jsonl"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("audit log: %v %v", err, st)
	}
	b, _ := os.ReadFile(filepath.Join(filepath.Dir(cfg), "audit.jsonl"))
	for _, secret := range []string{"reauthpw"} { // the users' password "sandbox" is also a word in paths
		if strings.Contains(string(b), secret) || strings.Contains(stdout, secret) || strings.Contains(stderr, secret) {
			t.Errorf("secret %q leaked into the audit log or output", secret)
		}
	}
	if n := strings.Count(string(b), `"step":"purge"`); n != 5 {
		t.Errorf("audit log has %d purge lines, want 5", n)
	}
	// The minted and sampled token values (all in the backups) appear in no output and no file
	// of the run: stdout, stderr, --json, audit log, journals, the nodes' logs.
	var backups []string
	for _, pr := range r.Products {
		backups = append(backups, pr.Backups...)
	}
	dirs := []string{filepath.Dir(cfg)}
	for _, p := range ps {
		dirs = append(dirs, p.c.Dir())
	}
	assertNoTokenLeak(t, backups, map[string]string{"stdout": stdout, "stderr": stderr, "args": strings.Join([]string{"run", "--config", cfg, "--yes", "--json"}, " ")}, dirs...)
}

func decodeInto(t *testing.T, stdout string, v any) error {
	t.Helper()
	if err := json.Unmarshal([]byte(stdout), v); err != nil {
		t.Fatalf("--json output is not one JSON object: %v\n%s", err, stdout)
	}
	return nil
}

// Jira on the real Jira 8 schema (the codeclou Data Center dump restored into PostgreSQL): three
// sandbox nodes adopt its tables, users log in, and the run purges, restarts and verifies.
func TestRunJiraOnRealJira8Schema(t *testing.T) {
	pg := testenv.Postgres(t)
	testenv.LoadDump(t, pg, "codeclou-archive+docker-atlassian-jira-data-center__initdb.d_jira-8-postgresql.sql")
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 3, DB: pg.URL, Users: 9, RememberFraction: 1, AdoptSchema: true})
	bs := browsers(t, c)
	if n := len(loggedIn(t, c, bs)); n != 9 {
		t.Fatalf("%d of 9 browsers logged in before", n)
	}
	var adminKey string
	if err := pg.SQL.QueryRow(`SELECT user_key FROM app_user WHERE lower_user_name = 'admin'`).Scan(&adminKey); err != nil || adminKey != "admin" {
		t.Fatalf("the dump's own app_user row was changed: %q %v", adminKey, err)
	}
	cfg := writeInventory(t, t.TempDir(), product{c: c, exclude: []string{"USER004"}}) // login names match case-insensitively
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json")
	if code != 0 {
		t.Fatalf("run exited %d\n%s\n%s", code, stdout, stderr)
	}
	r := decode(t, stdout)
	if !r.Verified || r.Deleted != 8 || r.NodesRestarted != 3 {
		t.Fatalf("verified=%v deleted=%d nodes_restarted=%d", r.Verified, r.Deleted, r.NodesRestarted)
	}
	if after := loggedIn(t, c, bs); len(after) != 1 || after[0] != "user004" {
		t.Fatalf("logged in after the run: %v, want [user004]", after)
	}
}
