package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/backup"
	"github.com/reauth/reauth/internal/testenv"
	"github.com/reauth/reauth/sqlstore"
)

// storeCLI runs reauth in-process with a fake IO: no terminal unless tty, stdin = in.
func storeCLI(t *testing.T, env map[string]string, tty bool, in string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	state := testStateHome(t)
	streams := IO{In: strings.NewReader(in), Out: &out, Err: &errb, InTTY: tty, Now: time.Now,
		Getenv: func(k string) string {
			if v, ok := env[k]; ok || k != "XDG_STATE_HOME" {
				return v
			}
			return state
		}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := Run(ctx, args, streams)
	return code, out.String(), errb.String()
}

// testStateHome is the XDG_STATE_HOME of a test: reauth's state directory is its reauth/, so
// that no test writes to the real ~/.local/state.
func testStateHome(t *testing.T) string {
	t.Helper()
	if v, ok := stateHomes.Load(t.Name()); ok {
		return v.(string)
	}
	d := t.TempDir()
	stateHomes.Store(t.Name(), d)
	return d
}

var stateHomes sync.Map

// jiraDB is a fresh PostgreSQL database holding a Jira token table with n rows.
func jiraDB(t *testing.T, n int) *testenv.DB {
	t.Helper()
	x := testenv.Postgres(t)
	if _, err := x.SQL.Exec("CREATE TABLE remembermetoken (id numeric(18,0) PRIMARY KEY, created timestamptz, token varchar(255), username varchar(255))"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if _, err := x.SQL.Exec("INSERT INTO remembermetoken VALUES ($1, $2, $3, $4)", i,
			time.Date(2025, 1, 1, 0, i, 0, 0, time.UTC), fmt.Sprintf("tok%d", i), []string{"admin", "bob", "carol"}[i%3]); err != nil {
			t.Fatal(err)
		}
	}
	return x
}

func count(t *testing.T, x *testenv.DB) int {
	var n int
	if err := x.SQL.QueryRow("SELECT COUNT(*) FROM remembermetoken").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func decode(t *testing.T, out string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	return m
}

func TestInspectPurgeRestoreCLI(t *testing.T) {
	x := jiraDB(t, 90)
	env := map[string]string{"REAUTH_DB_PASSWORD": x.Pass}
	target := []string{"--product", "jira", "--jdbc-url", x.JDBC, "--db-user", x.User}
	args := func(verb string, extra ...string) []string {
		return append(append([]string{verb}, target...), extra...)
	}

	code, out, errs := storeCLI(t, env, false, "", args("inspect", "--json")...)
	if code != 0 {
		t.Fatalf("inspect: %d %s", code, errs)
	}
	m := decode(t, out)
	if m["product"] != "jira" || m["table"] != "remembermetoken" || m["schema"] != "public" || m["qualified"] != `"public"."remembermetoken"` || m["total"] != 90.0 || m["users"] != 3.0 {
		t.Fatalf("inspect json %v", m)
	}

	// No --yes and no terminal: refused, nothing changed.
	code, _, errs = storeCLI(t, env, false, "", args("purge", "--backup", filepath.Join(t.TempDir(), "x"))...)
	if code != 4 || count(t, x) != 90 || !strings.Contains(errs, "--yes") {
		t.Fatalf("purge without --yes: exit %d, %d rows, stderr %s", code, count(t, x), errs)
	}
	// A terminal, and the wrong product name typed: refused.
	code, _, _ = storeCLI(t, env, true, "confluence\n", args("purge", "--backup", filepath.Join(t.TempDir(), "x"))...)
	if code != 4 || count(t, x) != 90 {
		t.Fatalf("purge with the wrong name typed: exit %d", code)
	}

	code, out, errs = storeCLI(t, env, false, "", args("purge", "--dry-run", "--json", "--exclude-user", "ADMIN")...)
	if code != 0 || count(t, x) != 90 {
		t.Fatalf("dry run: %d %s", code, errs)
	}
	m = decode(t, out)
	if m["to_delete"] != 60.0 || m["dry_run"] != true || len(m["sql"].([]any)) == 0 {
		t.Fatalf("dry run json %v", m)
	}
	// The plan says how batches are sized: by time unless --batch-size fixes them.
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{nil, "batches      sized to hold their locks ~50 ms each"},
		{[]string{"--batch-size", "25"}, "batches      25 rows each (--batch-size)"},
	} {
		code, out, errs = storeCLI(t, env, false, "", append(args("purge", "--dry-run"), tc.flags...)...)
		if code != 0 || !strings.Contains(out, tc.want) || !strings.Contains(out, "to delete    90") {
			t.Fatalf("dry run %v: exit %d, want %q in:\n%s%s", tc.flags, code, tc.want, out, errs)
		}
	}

	path := filepath.Join(t.TempDir(), "tokens.jsonl.gz")
	code, out, errs = storeCLI(t, env, false, "", args("purge", "--exclude-user", "admin", "--batch-size", "25", "--backup", path, "--yes", "--json")...)
	if code != 0 {
		t.Fatalf("purge: %d %s", code, errs)
	}
	m = decode(t, out)
	for _, k := range []string{"deleted", "kept", "backup", "sha256", "batches", "max_batch_ms", "cutoff_id"} {
		if _, ok := m[k]; !ok {
			t.Fatalf("purge json lacks %s: %v", k, m)
		}
	}
	if m["deleted"] != 60.0 || m["kept"] != 30.0 || m["batches"].(float64) < 3 || m["backup"] != path || count(t, x) != 30 {
		t.Fatalf("purge json %v (%d rows left)", m, count(t, x))
	}
	if strings.Contains(out+errs, x.Pass) {
		t.Fatal("the database password was printed")
	}

	// The backup is never overwritten.
	code, _, _ = storeCLI(t, env, false, "", args("purge", "--backup", path, "--yes")...)
	if code != 4 || count(t, x) != 30 {
		t.Fatalf("purge onto an existing backup: exit %d", code)
	}

	code, _, _ = storeCLI(t, env, false, "", append(args("restore"), path)...)
	if code != 4 || count(t, x) != 30 {
		t.Fatalf("restore without --yes: exit %d", code)
	}
	code, out, errs = storeCLI(t, env, true, "jira\n", append(args("restore", "--json"), path)...)
	if code != 0 {
		t.Fatalf("restore: %d %s", code, errs)
	}
	if m = decode(t, out); m["restored"] != 60.0 || m["skipped"] != 0.0 || count(t, x) != 90 {
		t.Fatalf("restore json %v", m)
	}
	if strings.Contains(errs, "warning: this backup was taken from") {
		t.Fatalf("restore into the database it came from warned:\n%s", errs)
	}
	// Into another database: allowed, with a warning naming both.
	y := jiraDB(t, 0)
	code, out, errs = storeCLI(t, map[string]string{"REAUTH_DB_PASSWORD": y.Pass}, false, "",
		"restore", "--product", "jira", "--jdbc-url", y.JDBC, "--db-user", y.User, "--yes", "--json", path)
	if m = decode(t, out); code != 0 || m["restored"] != 60.0 || count(t, y) != 60 ||
		!strings.Contains(errs, "warning: this backup was taken from postgres") || !strings.Contains(errs, "/"+x.Name) || !strings.Contains(errs, "/"+y.Name) {
		t.Fatalf("restore into another database: exit %d %v\n%s", code, m, errs)
	}
	code, out, _ = storeCLI(t, env, false, "", append(args("restore", "--yes", "--json"), path)...)
	if m = decode(t, out); code != 0 || m["restored"] != 0.0 || m["skipped"] != 60.0 {
		t.Fatalf("second restore: %d %v", code, m)
	}
}

func TestPurgeLockedCLI(t *testing.T) {
	x := jiraDB(t, 5)
	p, _ := atlassian.Lookup("jira")
	st, err := sqlstore.Open(context.Background(), reauth.Database{Engine: reauth.Postgres, Host: x.Host, Port: x.Port, Name: x.Name,
		User: x.User, Password: reauth.NewSecret(x.Pass)}, p, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	release, err := st.Lock(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	code, _, errs := storeCLI(t, map[string]string{"REAUTH_DB_PASSWORD": x.Pass}, false, "",
		"purge", "--product", "jira", "--jdbc-url", x.JDBC, "--db-user", x.User, "--yes", "--backup", filepath.Join(t.TempDir(), "b"))
	if code != 5 || count(t, x) != 5 || !strings.Contains(errs, "pid ") {
		t.Fatalf("purge while locked: exit %d, stderr %s", code, errs)
	}
	// On a terminal the lock is checked before the plan and the prompt: nobody types a
	// confirmation for a run that cannot go ahead.
	code, out, errs := storeCLI(t, map[string]string{"REAUTH_DB_PASSWORD": x.Pass}, true, "jira\n",
		"purge", "--product", "jira", "--jdbc-url", x.JDBC, "--db-user", x.User, "--backup", filepath.Join(t.TempDir(), "b"))
	if code != 5 || count(t, x) != 5 || strings.Contains(errs, "Type the product name") || strings.Contains(out, "plan for") {
		t.Fatalf("purge on a terminal while locked: exit %d\n%s\n%s", code, out, errs)
	}
}

// An empty table: nothing was issued before the run, so nothing goes, no backup is written,
// and a token created after the plan is not taken (a cut-off of 0 must not mean "now").
func TestPurgeEmptyTableCLI(t *testing.T) {
	x := jiraDB(t, 0)
	path := filepath.Join(t.TempDir(), "b.jsonl.gz")
	env := map[string]string{"REAUTH_DB_PASSWORD": x.Pass}
	code, out, errs := storeCLI(t, env, false, "", "purge", "--product", "jira", "--jdbc-url", x.JDBC, "--db-user", x.User,
		"--backup", path, "--yes", "--json")
	m := decode(t, out)
	if code != 0 || m["deleted"] != 0.0 || m["batches"] != 0.0 || m["backup"] != "" {
		t.Fatalf("purge of an empty table: exit %d %v %s", code, m, errs)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a backup file was written for nothing: %v", err)
	}
	code, out, _ = storeCLI(t, env, false, "", "purge", "--product", "jira", "--jdbc-url", x.JDBC, "--db-user", x.User,
		"--backup", path, "--yes")
	if code != 0 || !strings.Contains(out, "nothing to delete") {
		t.Fatalf("purge of an empty table: exit %d %s", code, out)
	}
}

// TARGET from a home directory: the password comes from the product's own dbconfig.xml.
func TestInspectFromHome(t *testing.T) {
	x := jiraDB(t, 4)
	home := t.TempDir()
	cfg := `<?xml version="1.0" encoding="UTF-8"?>
<jira-database-config><name>defaultDS</name><delegator-name>default</delegator-name><database-type>postgres72</database-type>
<schema-name>public</schema-name><jdbc-datasource><url>` + x.JDBC + `</url><driver-class>org.postgresql.Driver</driver-class>
<username>` + x.User + `</username><password>` + x.Pass + `</password></jdbc-datasource></jira-database-config>`
	if err := os.WriteFile(filepath.Join(home, "dbconfig.xml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := storeCLI(t, nil, false, "", "inspect", "--product", "jira", "--home", home)
	if code != 0 || !strings.Contains(out, "tokens   4") || strings.Contains(out+errs, x.Pass) {
		t.Fatalf("inspect --home: %d\n%s\n%s", code, out, errs)
	}
}

func TestStoreVerbsUsage(t *testing.T) {
	cases := []struct {
		args []string
		code int
	}{
		{[]string{"inspect", "--jdbc-url", "jdbc:postgresql://h/d"}, 2},
		{[]string{"inspect", "--product", "jira"}, 2},
		{[]string{"inspect", "--product", "jira", "--home", "/x", "--jdbc-url", "jdbc:postgresql://h/d"}, 2},
		{[]string{"inspect", "--product", "nope", "--home", "/x"}, 2},
		{[]string{"inspect", "--product", "jira", "--jdbc-url", "jdbc:postgresql://h/d", "--install", "/x"}, 2},
		{[]string{"purge", "--product", "jira", "--jdbc-url", "jdbc:postgresql://h/d", "--before", "yesterday"}, 2},
		{[]string{"purge", "--product", "jira", "--jdbc-url", "jdbc:postgresql://h/d", "--batch-size", "-1"}, 2},
		{[]string{"restore", "--product", "jira", "--jdbc-url", "jdbc:postgresql://h/d"}, 2},
		{[]string{"inspect", "--product", "jira", "--jdbc-url", "jdbc:h2:file:/x"}, 2},
	}
	for _, c := range cases {
		code, _, errs := storeCLI(t, nil, false, "", c.args...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d\n%s", c.args, code, c.code, errs)
		}
	}
	// A file that is not a backup is refused before connecting anywhere.
	bad := filepath.Join(t.TempDir(), "bad.gz")
	os.WriteFile(bad, []byte("not gzip"), 0o600)
	if code, _, errs := storeCLI(t, nil, false, "", "restore", "--product", "jira", "--jdbc-url", "jdbc:postgresql://127.0.0.1:1/d", bad, "--yes"); code != 4 || !strings.Contains(errs, "corrupt") {
		t.Errorf("restore of a non-backup: exit %d %s", code, errs)
	}
}

// Ctrl-C on the real binary in the middle of a purge: it stops after the current batch, exits
// 130, says how to finish, and leaves a complete backup holding exactly the deleted rows.
func TestPurgeInterruptedBinary(t *testing.T) {
	x := jiraDB(t, 0)
	if _, err := x.SQL.Exec("INSERT INTO remembermetoken SELECT g, now(), md5(g::text), 'u' || (g % 50) FROM generate_series(1, 20000) g"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "b.jsonl.gz")
	cmd := exec.Command(testenv.Binary(t), "purge", "--product", "jira", "--jdbc-url", x.JDBC, "--db-user", x.User,
		"--batch-size", "5", "--backup", path, "--yes", "--json", "--exclude-user", "u7")
	cmd.Env = append(os.Environ(), "REAUTH_DB_PASSWORD="+x.Pass)
	var out bytes.Buffer
	cmd.Stdout = &out
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The first progress line means batches are running: interrupt then.
	sc := bufio.NewScanner(stderr)
	var errText strings.Builder
	for sc.Scan() {
		errText.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "purge: ") {
			cmd.Process.Signal(os.Interrupt)
			break
		}
	}
	for sc.Scan() {
		errText.WriteString(sc.Text() + "\n")
	}
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit %d, want 130\n%s", code, errText.String())
	}
	// The way to finish repeats the cut-off and the filters, and says the backup was checked.
	if !strings.Contains(errText.String(), "--cutoff-id 20000 --exclude-user u7") || !strings.Contains(errText.String(), "read back and checked") {
		t.Fatalf("no way to continue in:\n%s", errText.String())
	}
	m := decode(t, out.String())
	left := count(t, x)
	if deleted := int(m["deleted"].(float64)); deleted == 0 || deleted+left != 20000 {
		t.Fatalf("deleted %d, %d left", deleted, left)
	}
	v, err := backup.Verify(path)
	if err != nil || int(v.Rows) != 20000-left {
		t.Fatalf("backup after Ctrl-C: %+v %v (%d rows deleted)", v, err, 20000-left)
	}
}

// Ctrl-C twice on the real binary while its batch waits on a row lock the product holds: the
// first says it waits for the batch, the second abandons it: exit 130, nothing deleted, the way
// to finish printed.
func TestPurgeSecondInterruptBinary(t *testing.T) {
	x := jiraDB(t, 0)
	if _, err := x.SQL.Exec("INSERT INTO remembermetoken SELECT g, now(), md5(g::text), 'u' || (g % 50) FROM generate_series(1, 2000) g"); err != nil {
		t.Fatal(err)
	}
	lockTx, err := x.SQL.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer lockTx.Rollback()
	if _, err := lockTx.Exec("SELECT 1 FROM remembermetoken WHERE id = 3 FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testenv.Binary(t), "purge", "--product", "jira", "--jdbc-url", x.JDBC, "--db-user", x.User,
		"--backup", filepath.Join(t.TempDir(), "b.jsonl.gz"), "--yes")
	cmd.Env = append(os.Environ(), "REAUTH_DB_PASSWORD="+x.Pass)
	var errText bytes.Buffer
	cmd.Stderr = &errText
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for waiting := 0; waiting == 0; {
		if err := x.SQL.QueryRow("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() " +
			"AND application_name = 'reauth' AND wait_event_type = 'Lock'").Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the purge never waited on the lock\n%s", errText.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	select {
	case <-exited:
		t.Fatalf("the first Ctrl-C abandoned the batch in flight\n%s", errText.String())
	case <-time.After(500 * time.Millisecond):
	}
	cmd.Process.Signal(os.Interrupt)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the second Ctrl-C did not stop it\n%s", errText.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 || count(t, x) != 2000 ||
		!strings.Contains(errText.String(), "press Ctrl-C again") || !strings.Contains(errText.String(), "--cutoff-id 2000") {
		t.Fatalf("exit %d, %d rows left\n%s", code, count(t, x), errText.String())
	}
}

// The purge's preflight runs for a dry run too, before any confirmation: a user without DELETE
// on the table, or a --backup file that exists, is refused (exit 4) with what to do.
func TestPurgePreflightCLI(t *testing.T) {
	x := jiraDB(t, 6)
	role := "ro_" + x.Name
	for _, q := range []string{`CREATE ROLE ` + role + ` LOGIN PASSWORD 'ropw'`, `GRANT SELECT ON remembermetoken TO ` + role} {
		if _, err := x.SQL.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_, _ = x.SQL.Exec(`REVOKE ALL ON remembermetoken FROM ` + role)
		_, _ = x.SQL.Exec(`DROP ROLE ` + role)
	})
	for _, flags := range [][]string{{"--dry-run"}, {"--yes"}} {
		code, out, errs := storeCLI(t, map[string]string{"REAUTH_DB_PASSWORD": "ropw"}, false, "",
			append([]string{"purge", "--product", "jira", "--jdbc-url", x.JDBC, "--db-user", role}, flags...)...)
		if code != 4 || !strings.Contains(errs, "grant DELETE") || strings.Contains(out, "plan for") || count(t, x) != 6 {
			t.Fatalf("purge %v as a read-only user: exit %d\n%s\n%s", flags, code, out, errs)
		}
	}
	existing := filepath.Join(t.TempDir(), "b.jsonl.gz")
	if err := os.WriteFile(existing, []byte("an older backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := storeCLI(t, map[string]string{"REAUTH_DB_PASSWORD": x.Pass}, false, "",
		"purge", "--product", "jira", "--jdbc-url", x.JDBC, "--db-user", x.User, "--dry-run", "--backup", existing)
	if code != 4 || !strings.Contains(errs, "already exists") {
		t.Fatalf("dry run onto an existing backup: exit %d\n%s", code, errs)
	}
	if b, _ := os.ReadFile(existing); string(b) != "an older backup" {
		t.Fatal("the existing file was touched")
	}
}
