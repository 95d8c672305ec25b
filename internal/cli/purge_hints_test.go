package cli

import (
	"strings"
	"testing"

	"github.com/reauth/reauth/sqlstore"
)

// The plan lists the top 50 users and says how many more there really are: with 5,060 users it
// used to say nothing of the other 5,010 (and reauth run's plan said "… and 10 more").
func TestPurgePlanCountsEveryUser(t *testing.T) {
	x := jiraDB(t, 0)
	if _, err := x.SQL.Exec("INSERT INTO remembermetoken SELECT g, now(), md5(g::text), 'user' || (g % 5060) FROM generate_series(1, 10120) g"); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"REAUTH_DB_PASSWORD": x.Pass}
	code, out, errs := storeCLI(t, env, false, "", "purge", "--dry-run", "--product", "jira", "--jdbc-url", x.JDBC, "--db-user", x.User)
	if code != 0 || !strings.Contains(out, "… and 5010 more user(s)") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = storeCLI(t, env, false, "", "purge", "--dry-run", "--json", "--product", "jira", "--jdbc-url", x.JDBC, "--db-user", x.User)
	if m := decode(t, out); code != 0 || m["users"] != 5060.0 {
		t.Fatalf("--json users: %v", m["users"])
	}
}

// A purge that fails after deleting rows (here: after its last batch) never says "nothing was
// deleted": the hint gives the count, the backup and the restore command.
func TestPurgeFailureHint(t *testing.T) {
	tf := targetFlags{product: "jira", home: "/var/atlassian/jira"}
	h := purgeFailureHint(sqlstore.PurgeResult{Deleted: 90, Backup: "/b/reauth-jira.jsonl.gz"}, tf)
	if strings.Contains(h, "nothing was deleted") || !strings.Contains(h, "90 token(s) were deleted") ||
		!strings.Contains(h, "reauth restore --product jira --home /var/atlassian/jira /b/reauth-jira.jsonl.gz") {
		t.Fatalf("hint after a full purge: %s", h)
	}
	if h := purgeFailureHint(sqlstore.PurgeResult{}, tf); !strings.Contains(h, "nothing was deleted") {
		t.Fatalf("hint when no batch committed: %s", h)
	}
}

// --rest: the plan says what it costs, a purge with it deletes every row, and a rest out of range
// is refused before anything is read or changed.
func TestPurgeRest(t *testing.T) {
	x := jiraDB(t, 0)
	if _, err := x.SQL.Exec("INSERT INTO remembermetoken SELECT g, now(), md5(g::text), 'user' || (g % 7) FROM generate_series(1, 500) g"); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"REAUTH_DB_PASSWORD": x.Pass}
	target := []string{"--product", "jira", "--jdbc-url", x.JDBC, "--db-user", x.User}
	count := func() (n int) {
		t.Helper()
		if err := x.SQL.QueryRow("SELECT COUNT(*) FROM remembermetoken").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, bad := range []string{"-1", "21", "NaN"} {
		code, _, errs := storeCLI(t, env, false, "", append([]string{"purge", "--yes", "--rest", bad}, target...)...)
		if code != 2 || !strings.Contains(errs, "--rest") || !strings.Contains(errs, "between 0 (none) and 20") || count() != 500 {
			t.Fatalf("--rest %s: exit %d, %d rows left\n%s", bad, code, count(), errs)
		}
	}
	code, out, errs := storeCLI(t, env, false, "", append([]string{"purge", "--dry-run", "--rest", "1.5"}, target...)...)
	if code != 0 || !strings.Contains(out, "one batch at a time, then 1.5× its time, at most 5s (--rest): ~2.5× as long or more") {
		t.Fatalf("dry run with --rest: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = storeCLI(t, env, false, "", append([]string{"purge", "--yes", "--json", "--rest", "0.5", "--batch-size", "100",
		"--backup", t.TempDir() + "/b.jsonl.gz"}, target...)...)
	if m := decode(t, out); code != 0 || m["deleted"] != 500.0 || m["batches"] != 5.0 || count() != 0 {
		t.Fatalf("purge with --rest: exit %d, %d rows left\n%s\n%s", code, count(), out, errs)
	}
}
