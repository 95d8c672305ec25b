package cli

import (
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth/backup"
)

// Rows with negative ids (the range reauth's proof tokens are drawn from, but written by someone
// else) are tokens like any other: a purge counts them as inspect does, backs them up and deletes
// them, also when every id of the table is negative (a negative cut-off is no empty table), and
// the --cutoff-id that finishes such a purge is accepted.
func TestPurgeNegativeIDsCLI(t *testing.T) {
	x := jiraDB(t, 0)
	env := map[string]string{"REAUTH_DB_PASSWORD": x.Pass}
	target := []string{"--product", "jira", "--jdbc-url", x.JDBC, "--db-user", x.User}
	insert := func(id int64, token string) {
		t.Helper()
		if _, err := x.SQL.Exec("INSERT INTO remembermetoken VALUES ($1, $2, $3, 'user003')", id, time.Now().Add(-24*time.Hour), token); err != nil {
			t.Fatal(err)
		}
	}
	insert(-1100000000, "realtok-neg")

	code, out, errs := storeCLI(t, env, false, "", append([]string{"inspect", "--json"}, target...)...)
	if code != 0 || decode(t, out)["total"] != 1.0 {
		t.Fatalf("inspect: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = storeCLI(t, env, false, "", append([]string{"purge", "--dry-run", "--cutoff-id", "-1100000000"}, target...)...)
	if code != 0 || !strings.Contains(out, "cut-off id   -1100000000") || !strings.Contains(out, "to delete    1") {
		t.Fatalf("dry run with a negative --cutoff-id: exit %d\n%s\n%s", code, out, errs)
	}
	path := filepath.Join(t.TempDir(), "neg.jsonl.gz")
	code, out, errs = storeCLI(t, env, false, "", append([]string{"purge", "--yes", "--json", "--backup", path}, target...)...)
	if m := decode(t, out); code != 0 || m["deleted"] != 1.0 || m["cutoff_id"] != -1100000000.0 || count(t, x) != 0 {
		t.Fatalf("purge of a table whose only id is negative: exit %d, %d rows left\n%s\n%s", code, count(t, x), out, errs)
	}
	if got := backupTokens(t, path); strings.Join(got, ",") != "realtok-neg" {
		t.Fatalf("backup holds %v, want the negative-id row", got)
	}

	insert(-1100000000, "realtok-neg")
	insert(7, "realtok")
	path = filepath.Join(t.TempDir(), "both.jsonl.gz")
	code, out, errs = storeCLI(t, env, false, "", append([]string{"purge", "--yes", "--backup", path}, target...)...)
	if code != 0 || !strings.Contains(out, "to delete    2") || !strings.Contains(out, "deleted 2 tokens") ||
		!strings.Contains(errs, "2/2 tokens deleted (100%)") || count(t, x) != 0 {
		t.Fatalf("purge of a negative and a positive id: exit %d, %d rows left\n%s\n%s", code, count(t, x), out, errs)
	}
	if got := backupTokens(t, path); len(got) != 2 {
		t.Fatalf("backup holds %v, want both rows", got)
	}
}

// backupTokens lists the token column of every row in a clear backup.
func backupTokens(t *testing.T, path string) []string {
	t.Helper()
	r, err := backup.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	col := -1
	for i, c := range r.Manifest().Columns {
		if c.Name == "token" {
			col = i
		}
	}
	var out []string
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, row[col].(string))
	}
}
