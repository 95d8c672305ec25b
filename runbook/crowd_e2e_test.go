package runbook_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/cookiefile"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
	"github.com/reauth/reauth/runbook"
)

// TestRunJiraWithCrowdSSO: Jira trusts Crowd SSO (its nodes' seraph-config.xml names the SSO
// authenticator), Crowd and Jira are in one inventory (Jira listed first), both on real
// PostgreSQL. A browser holding only crowd.token_key is logged straight back in to Jira before the
// run. The run ends Crowd's users' sessions first (purge + restart), then Jira's; afterwards every
// saved browser, and the SSO cookie alone, is rejected on every node of both, Crowd's application
// tokens are untouched, its remember-me rows are gone, and the run says it verified all of it.
func TestRunJiraWithCrowdSSO(t *testing.T) { jiraWithCrowdSSO(t, "restart") }

// TestRunJiraWithCrowdSSOAPI: the same with Crowd in API mode: its users' SSO sessions end through
// DELETE /rest/usermanagement/1/session?username= on every node, and no Crowd node restarts.
func TestRunJiraWithCrowdSSOAPI(t *testing.T) { jiraWithCrowdSSO(t, "api") }

func jiraWithCrowdSSO(t *testing.T, crowdMode string) {
	pgCrowd, pgJira := testenv.Postgres(t), testenv.Postgres(t)
	crowd := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Crowd, Nodes: 2, DB: pgCrowd.URL, Users: 4, RememberFraction: 0.5})
	var crowdURLs []string
	for _, n := range crowd.Nodes() {
		crowdURLs = append(crowdURLs, n.URL)
	}
	jira := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 2, DB: pgJira.URL, Users: 4, RememberFraction: 0.5, CrowdSSO: crowdURLs})
	ctx := context.Background()

	appTokens := func() string {
		rows, err := pgCrowd.SQL.Query("SELECT id, entity_name, random_hash FROM cwd_token WHERE directory_id = -1 ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var id int64
			var name, rh string
			if err := rows.Scan(&id, &name, &rh); err != nil {
				t.Fatal(err)
			}
			out = append(out, name+"/"+rh)
		}
		return strings.Join(out, ",")
	}
	count := func(q string) int {
		var n int
		if err := pgCrowd.SQL.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	appsBefore := appTokens()
	if n := len(strings.Split(appsBefore, ",")); n != len(sandbox.CrowdApplications) {
		t.Fatalf("application tokens before: %q", appsBefore)
	}
	if count("SELECT COUNT(*) FROM cwd_remember_me_token") == 0 || count("SELECT COUNT(*) FROM cwd_token WHERE directory_id <> -1") == 0 {
		t.Fatal("the sandbox Crowd holds no user sessions or remember-me rows")
	}

	jb, cb := browsers(t, jira), browsers(t, crowd)
	// Every Jira browser holds a Crowd SSO cookie, and that cookie alone logs it in to Jira.
	ssoOnly := map[string]*sandbox.Browser{}
	for name, b := range jb {
		var sso []cookiefile.Cookie
		for _, c := range b.Cookies() {
			if c.Name == "crowd.token_key" {
				sso = append(sso, c)
			}
		}
		if len(sso) != 1 {
			t.Fatalf("browser %s holds %d crowd.token_key cookies", name, len(sso))
		}
		f := filepath.Join(t.TempDir(), name+".cookies")
		if err := cookiefile.Save(f, sso); err != nil {
			t.Fatal(err)
		}
		ob, err := sandbox.LoadBrowser(f)
		if err != nil {
			t.Fatal(err)
		}
		ob.Product = atlassian.Jira
		ssoOnly[name] = ob
	}
	if got := loggedIn(t, jira, ssoOnly); len(got) != len(ssoOnly) {
		t.Fatalf("only %v of %d SSO-only browsers are logged in to Jira before the run", got, len(ssoOnly))
	}
	if got := loggedIn(t, jira, jb); len(got) != len(jb) {
		t.Fatalf("jira: %v logged in before", got)
	}
	if got := loggedIn(t, crowd, cb); len(got) != len(cb) {
		t.Fatalf("crowd: %v logged in before", got)
	}

	dir := t.TempDir()
	cfg := writeInventory(t, dir, product{c: jira, proofUser: "admin"}, product{c: crowd, proofUser: "admin", mode: crowdMode, admin: crowdMode == "api"})
	plan, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--dry-run")
	if code != 0 || strings.Index(plan, "== Crowd") > strings.Index(plan, "== Jira") || !strings.Contains(plan, "Crowd's sessions end first") ||
		!strings.Contains(plan, "directory_id = -1") || !strings.Contains(plan, "cwd_remember_me_token") {
		t.Fatalf("plan (exit %d) does not put Crowd first and say why:\n%s\n%s", code, plan, stderr)
	}
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json", "--cookies", jira.BrowserFile(1))
	if code != 0 {
		t.Fatalf("run exited %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	var r runbook.Report // the --json contract, decoded into the types that write it
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if !r.Verified || len(r.SSONotCovered) != 0 || len(r.Products) != 2 || r.Products[0].Product != "crowd" {
		t.Fatalf("report: verified %v sso_not_covered %v products %+v\n%s", r.Verified, r.SSONotCovered, r.Products, stdout)
	}
	if strings.Contains(strings.Join(r.NotCovered, "\n"), "Crowd SSO") {
		t.Errorf("not_covered still lists Crowd SSO with Crowd in the run: %v", r.NotCovered)
	}
	cr, jr := r.Products[0], r.Products[1]
	if wantRestarts := map[string]int{"restart": 2, "api": 0}[crowdMode]; cr.Mode.Mode != crowdMode || cr.NodesRestarted != wantRestarts {
		t.Errorf("crowd: mode %q, %d node(s) restarted; want %s and %d", cr.Mode.Mode, cr.NodesRestarted, crowdMode, wantRestarts)
	}
	if cr.Deleted == 0 || cr.Companion == nil || cr.Companion.Table != "cwd_remember_me_token" || cr.Companion.Deleted == 0 || !cr.Verify.Verified {
		t.Errorf("crowd: %+v", cr)
	}
	if jr.SSO == nil || !jr.SSO.Covered || !strings.Contains(jr.SSO.Cache, "15 minutes") || !jr.Verify.Verified || jr.Verify.Proof.Sources["cookies_file"] == 0 {
		t.Errorf("jira: %+v", jr)
	}

	if got := appTokens(); got != appsBefore {
		t.Fatalf("application tokens changed:\nbefore %s\nafter  %s", appsBefore, got)
	}
	if n := count("SELECT COUNT(*) FROM cwd_remember_me_token"); n != 0 {
		t.Errorf("%d Crowd remember-me rows left", n)
	}
	for what, c := range map[string]*sandbox.Cluster{"jira": jira, "crowd": crowd} {
		bs := jb
		if what == "crowd" {
			bs = cb
		}
		if after := loggedIn(t, c, bs); len(after) != 0 {
			sort.Strings(after)
			t.Errorf("%s: still logged in after the run: %v", what, after)
		}
	}
	if after := loggedIn(t, jira, ssoOnly); len(after) != 0 {
		t.Errorf("jira: the Crowd SSO cookie alone still logs in %v", after)
	}
	// A fresh login works again, through Crowd.
	fresh := sandbox.NewBrowser()
	url := jira.Nodes()[0].URL
	if err := fresh.Login(ctx, url, "user003", sandbox.UserPassword, false); err != nil {
		t.Fatalf("fresh login: %v", err)
	}
	if who, ok, _ := fresh.WhoAmI(ctx, url); !ok || who != "user003" {
		t.Fatalf("fresh login not accepted (who=%q ok=%v)", who, ok)
	}
}

// TestRevokeCrowdUser: `reauth revoke` on Crowd (API mode) deletes one user's SSO sessions and
// remember-me rows (each table into its own backup), ends the user's sessions on every node, and
// leaves the other users and every application token alone.
func TestRevokeCrowdUser(t *testing.T) {
	pg := testenv.Postgres(t)
	crowd := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Crowd, Nodes: 2, DB: pg.URL, Users: 3, RememberFraction: 1})
	count := func(q string) int {
		var n int
		if err := pg.SQL.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	apps := count("SELECT COUNT(*) FROM cwd_token WHERE directory_id = -1")
	bs := browsers(t, crowd)
	cfg := writeInventory(t, t.TempDir(), product{c: crowd, admin: true})
	stdout, stderr, code := reauthCmd(t, nil, "revoke", "--config", cfg, "--user", "user001", "--yes")
	if code != 0 {
		t.Fatalf("revoke exited %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "cwd_remember_me_token") {
		t.Errorf("revoke does not say it purged cwd_remember_me_token:\n%s", stderr)
	}
	if n := count("SELECT COUNT(*) FROM cwd_token WHERE entity_name = 'user001'") + count("SELECT COUNT(*) FROM cwd_remember_me_token WHERE username = 'user001'"); n != 0 {
		t.Errorf("%d row(s) of user001 left", n)
	}
	if n := count("SELECT COUNT(*) FROM cwd_remember_me_token WHERE username <> 'user001'"); n != 2 {
		t.Errorf("the other users' remember-me rows: %d, want 2", n)
	}
	if n := count("SELECT COUNT(*) FROM cwd_token WHERE directory_id = -1"); n != apps {
		t.Errorf("application tokens: %d, want %d", n, apps)
	}
	after := loggedIn(t, crowd, bs)
	sort.Strings(after)
	if strings.Join(after, ",") != "user002,user003" {
		t.Errorf("logged in after revoking user001: %v", after)
	}
}
