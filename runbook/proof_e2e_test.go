package runbook_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
)

// A node that keeps deleted tokens in a cache that survives its restart (sandbox fault
// keep-token-cache): the minted and sampled cookies still log in there after the run, so the run
// fails (exit 1, verified false), naming that node and the users, with the next step.
func TestProofCatchesTokenKeptByANode(t *testing.T) {
	pg := testenv.Postgres(t)
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 2, DB: pg.URL, Users: 4, RememberFraction: 1})
	if err := c.SetFault("node2", sandbox.FaultKeepTokenCache); err != nil {
		t.Fatal(err)
	}
	cfg := writeInventory(t, t.TempDir(), product{c: c, proofUser: "admin"})
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json", "--mode", "restart")
	r := decode(t, stdout)
	if code != 1 || r.Verified {
		t.Fatalf("run exited %d verified=%v, want 1 and false\n%s\n%s", code, r.Verified, stdout, stderr)
	}
	pf := r.Products[0].Verify.Proof
	users := map[string]bool{}
	for _, f := range pf.AcceptedAfter {
		if f.Node != "node2" || !strings.Contains(f.Next, "reauth restart") {
			t.Errorf("survivor %+v: want node2 only, with the restart as next step", f)
		}
		users[f.User] = true
	}
	if !users["admin"] || len(users) < 2 {
		t.Fatalf("survivors name users %v, want the proof user admin and sampled users\n%s", users, stdout)
	}
	if !strings.Contains(stderr, "node node2 still logs in") || strings.Contains(stderr, "node node1 still") {
		t.Fatalf("stderr does not name node2 (and only node2):\n%s", stderr)
	}
}

// API mode where the session API ends sessions but leaves the remember-me tokens in the nodes'
// caches (the pessimistic reading of Jira 9.11): the purge deleted the rows, yet the cached
// tokens still log in; the run fails naming the nodes and the rolling restart to do.
func TestProofCatchesAPIModeKeepingRememberMe(t *testing.T) {
	my := testenv.MariaDB(t)
	url := "mysql://" + my.User + ":" + my.Pass + "@127.0.0.1:" + strconv.Itoa(my.Port) + "/" + my.Name
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 2, DB: url, Users: 4, RememberFraction: 1, APIKeepsRememberMe: true})
	cfg := writeInventory(t, t.TempDir(), product{c: c, admin: true})
	pids := c.PIDs()
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json", "--mode", "api")
	r := decode(t, stdout)
	if code != 1 || r.Verified || r.NodesRestarted != 0 {
		t.Fatalf("run exited %d verified=%v restarted=%d, want 1, false, 0\n%s\n%s", code, r.Verified, r.NodesRestarted, stdout, stderr)
	}
	for name, pid := range c.PIDs() {
		if pid != pids[name] {
			t.Errorf("API mode restarted %s", name)
		}
	}
	nodes := map[string]bool{}
	for _, f := range r.Products[0].Verify.Proof.AcceptedAfter {
		nodes[f.Node] = true
		if f.Source != "minted" && f.Source != "sampled" || !strings.Contains(f.Next, "rolling restart") {
			t.Errorf("survivor %+v", f)
		}
	}
	if len(nodes) != 2 || !strings.Contains(stderr, "rolling restart") {
		t.Fatalf("survivors on %v, want both nodes, and the rolling restart as the next step\n%s", nodes, stderr)
	}
}

// No way to replay a cookie (no proof user, no sample, no canary, no --cookies): the run does
// its job, exits 0, and says it is not verified, at proof level tokens-only, and how to prove it.
func TestRunWithoutCookiesIsNotVerified(t *testing.T) {
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 1, Users: 3, RememberFraction: 1})
	cfg := writeInventory(t, t.TempDir(), product{c: c})
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json", "--proof-sample", "0")
	r := decode(t, stdout)
	if code != 0 || r.Verified || r.Deleted != 3 || r.Proof.Level != "tokens-only" {
		t.Fatalf("exit %d verified=%v deleted=%d level=%q, want 0, false, 3, tokens-only\n%s\n%s", code, r.Verified, r.Deleted, r.Proof.Level, stdout, stderr)
	}
	if pf := r.Products[0].Verify.Proof; !strings.Contains(pf.HowToProve, "proof_user") || !strings.Contains(stderr, "warning: jira: not verified") {
		t.Fatalf("how to prove %q; stderr:\n%s", pf.HowToProve, stderr)
	}
}

// Per-node id banks: a user who logs in on node1 after the run gets a token whose id is below the
// cut-off (node2's bank was higher). `reauth verify` judges "issued before the run" by the
// creation time against the database clock, so it is no left-over; and it replays the run's
// minted and sampled tokens again, rebuilt from the backup.
func TestVerifyJudgesByCreationTime(t *testing.T) {
	pg := testenv.Postgres(t)
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 2, DB: pg.URL, Users: 6, RememberFraction: 1, IDBanks: true})
	cfg := writeInventory(t, t.TempDir(), product{c: c, proofUser: "admin"})
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json", "--mode", "restart")
	if code != 0 || !decode(t, stdout).Verified {
		t.Fatalf("run exited %d\n%s\n%s", code, stdout, stderr)
	}
	r := decode(t, stdout)
	if by := r.Products[0].Verify.Proof.IssuedBefore.By; by != "created" {
		t.Fatalf("issued before judged by %q, want created", by)
	}
	var cutoff int64
	if err := pg.SQL.QueryRow(`SELECT COALESCE(MAX(id), 0) FROM remembermetoken`).Scan(&cutoff); err != nil || cutoff != 0 {
		t.Fatalf("table after the run: max id %d %v", cutoff, err)
	}
	b := sandbox.NewBrowser()
	if err := b.Login(context.Background(), c.Nodes()[0].URL, "user001", sandbox.UserPassword, true); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := pg.SQL.QueryRow(`SELECT id FROM remembermetoken`).Scan(&id); err != nil || id > 100 {
		t.Fatalf("the new token's id %d (%v): want one from node1's bank, below the run's cut-off", id, err)
	}
	stdout, stderr, code = reauthCmd(t, nil, "verify", "--config", cfg, "--json")
	v := decode(t, stdout)
	pf := v.Products[0].Verify.Proof
	if code != 0 || !v.Verified || v.Products[0].Verify.TokensRemaining != 0 || pf.IssuedBefore.LaterBelowCutoff != 1 {
		t.Fatalf("verify exited %d verified=%v remaining=%d later-below-cut-off=%d\n%s\n%s", code, v.Verified,
			v.Products[0].Verify.TokensRemaining, pf.IssuedBefore.LaterBelowCutoff, stdout, stderr)
	}
	if pf.Level != "cookies" || pf.Sampled.From != "backup" || pf.Sources["sampled"] == 0 || pf.Sources["minted"] != 1 {
		t.Fatalf("verify's proof: %+v", pf)
	}
}

// Every product on the database TestRunFiveProducts does not give it (Jira, Bitbucket and
// Fisheye on MariaDB; Confluence and Bamboo on PostgreSQL): no canary, no --cookies, and each run
// verifies through its minted and sampled cookies, with "issued before" judged by creation time
// wherever the table has one.
func TestProofEveryProductOtherDatabase(t *testing.T) {
	maria := func() string {
		my := testenv.MariaDB(t)
		return "mysql://" + my.User + ":" + my.Pass + "@127.0.0.1:" + strconv.Itoa(my.Port) + "/" + my.Name
	}
	ps := []product{
		{c: sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 2, DB: maria(), Users: 3, RememberFraction: 1}), proofUser: "admin"},
		{c: sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Confluence, Nodes: 1, DB: testenv.Postgres(t).URL, Users: 3, RememberFraction: 1}), proofUser: "admin"},
		{c: sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Bitbucket, Nodes: 1, DB: maria(), Users: 3, RememberFraction: 1}), proofUser: "admin"},
		{c: sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Bamboo, Nodes: 1, DB: testenv.Postgres(t).URL, Users: 3, RememberFraction: 1}), proofUser: "admin"},
		{c: sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Fisheye, Nodes: 1, DB: maria(), Users: 3, RememberFraction: 1}), table: "fe_remember_me", proofUser: "admin"},
	}
	cfg := writeInventory(t, t.TempDir(), ps...)
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json", "--mode", "restart")
	r := decode(t, stdout)
	if code != 0 || !r.Verified || r.Proof.Level != "cookies" {
		t.Fatalf("run exited %d verified=%v level=%q\n%s\n%s", code, r.Verified, r.Proof.Level, stdout, stderr)
	}
	wantBy := map[string]string{"jira": "created", "confluence": "created", "bitbucket": "id", "bamboo": "created", "fisheye": "created"}
	for _, pr := range r.Products {
		pf := pr.Verify.Proof
		if pr.Deleted != 3 || pf.Sources["minted"] != 1 || pf.Sources["sampled"] != 3 || pf.Minted == nil || !pf.Minted.Removed ||
			len(pf.Minted.RejectedAfter) != len(pr.Nodes) {
			t.Errorf("%s: deleted %d, proof %+v, minted %+v", pr.Product, pr.Deleted, pf, pf.Minted)
		}
		if pf.IssuedBefore.By != wantBy[pr.Product] {
			t.Errorf("%s: issued before judged by %q, want %q", pr.Product, pf.IssuedBefore.By, wantBy[pr.Product])
		}
	}
}
