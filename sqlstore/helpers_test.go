package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/testenv"
)

// target is one real database a conformance test runs against.
type target struct {
	name string
	sql  *sql.DB
	db   reauth.Database
	d    Dialect
	x    *testenv.DB // the server's fresh database (nil for SQLite)
}

func pgTarget(t testing.TB) target {
	x := testenv.Postgres(t)
	return target{name: "postgres", x: x, sql: x.SQL, d: Postgres{}, db: reauth.Database{Engine: reauth.Postgres, Host: x.Host, Port: x.Port,
		Name: x.Name, User: x.User, Password: reauth.NewSecret(x.Pass), Params: map[string]string{"sslmode": "disable"}}}
}

func mariaTarget(t testing.TB) target {
	x := testenv.MariaDB(t)
	return target{name: "mariadb", x: x, sql: x.SQL, d: MySQL{MariaDB: true}, db: reauth.Database{Engine: reauth.MariaDB, Host: x.Host,
		Port: x.Port, Name: x.Name, User: x.User, Password: reauth.NewSecret(x.Pass)}}
}

func sqliteTarget(t testing.TB) target {
	path := filepath.Join(t.TempDir(), "sandbox.db")
	h, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	if err := h.Ping(); err != nil { // creates the file, as the sandbox does
		t.Fatal(err)
	}
	return target{name: "sqlite", sql: h, d: SQLite{}, db: reauth.Database{Engine: reauth.SQLite, Name: path}}
}

// targets are the engines with a real server (or file) here: every conformance test runs on all.
var targets = []struct {
	name string
	open func(testing.TB) target
}{{"postgres", pgTarget}, {"mariadb", mariaTarget}, {"sqlite", sqliteTarget}}

// onServers runs f on each real database server (PostgreSQL, MariaDB), one subtest each
// (side by side when parallel).
func onServers(t *testing.T, parallel bool, f func(t *testing.T, tg target)) {
	for _, e := range []struct {
		name string
		tg   func(testing.TB) target
	}{{"postgres", pgTarget}, {"mariadb", mariaTarget}} {
		t.Run(e.name, func(t *testing.T) {
			if parallel {
				t.Parallel()
			}
			f(t, e.tg(t))
		})
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func mustExec(t *testing.T, h *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := h.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func product(t testing.TB, id string) atlassian.Product {
	p, err := atlassian.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func openStore(t *testing.T, tg target, p string, opts Options) *Store {
	t.Helper()
	s, err := Open(ctxT(t), tg.db, product(t, p), opts)
	if err != nil {
		t.Fatalf("open %s store: %v (hint: %s)", p, err, reauth.HintOf(err))
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// snapshot is every row of a table, ordered by id, each rendered as text: two snapshots are
// equal when the tables are identical row for row.
func snapshot(t *testing.T, h *sql.DB, table, id string) []string {
	t.Helper()
	rows, err := h.Query("SELECT * FROM " + table + " ORDER BY " + id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			switch x := v.(type) {
			case []byte:
				fmt.Fprintf(&b, "%s=%q|", cols[i], x)
			case time.Time:
				fmt.Fprintf(&b, "%s=%s|", cols[i], x.UTC().Format(time.RFC3339Nano))
			default:
				fmt.Fprintf(&b, "%s=%v|", cols[i], x)
			}
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func ids(t *testing.T, h *sql.DB, table, id string) []int64 {
	t.Helper()
	rows, err := h.Query("SELECT " + id + " FROM " + table + " ORDER BY " + id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func diff(a, b []string) string {
	in := func(list []string) map[string]bool {
		m := map[string]bool{}
		for _, x := range list {
			m[x] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var d []string
	for _, x := range a {
		if !mb[x] {
			d = append(d, "- "+x)
		}
	}
	for _, x := range b {
		if !ma[x] {
			d = append(d, "+ "+x)
		}
	}
	sort.Strings(d)
	if len(d) > 10 {
		d = append(d[:10], fmt.Sprintf("… %d more", len(d)-10))
	}
	return strings.Join(d, "\n")
}

func equalSnapshots(t *testing.T, what string, want, got []string) {
	t.Helper()
	if len(want) != len(got) || diff(want, got) != "" {
		t.Fatalf("%s: table differs (want %d rows, got %d):\n%s", what, len(want), len(got), diff(want, got))
	}
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("%s: row %d differs:\n%s\n%s", what, i, want[i], got[i])
		}
	}
}

// jiraDDL creates a Jira token table and app_user in each engine's real spelling: PostgreSQL as
// Jira 8 (numeric, timestamptz), MariaDB as the Jira 7 MySQL dump (UPPER-CASE columns, datetime).
func jiraDDL(tg target) []string {
	switch tg.name {
	case "postgres":
		return []string{
			"CREATE TABLE public.remembermetoken (id numeric(18,0) NOT NULL PRIMARY KEY, created timestamp with time zone, token varchar(255), username varchar(255))",
			"CREATE TABLE public.app_user (id numeric(18,0) NOT NULL PRIMARY KEY, user_key varchar(255), lower_user_name varchar(255))"}
	case "mariadb":
		return []string{
			"CREATE TABLE remembermetoken (`ID` decimal(18,0) NOT NULL PRIMARY KEY, `CREATED` datetime DEFAULT NULL, `TOKEN` varchar(255) DEFAULT NULL, `USERNAME` varchar(255) DEFAULT NULL)",
			"CREATE TABLE app_user (`ID` decimal(18,0) NOT NULL PRIMARY KEY, `user_key` varchar(255), `lower_user_name` varchar(255))"}
	}
	return []string{
		"CREATE TABLE remembermetoken (id INTEGER NOT NULL PRIMARY KEY, created TIMESTAMP, token TEXT, username TEXT)",
		"CREATE TABLE app_user (id INTEGER NOT NULL PRIMARY KEY, user_key TEXT, lower_user_name TEXT)"}
}

var seedBase = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// seedJira fills the Jira table with n tokens from ids first.. over users: alice is stored by
// user key (JIRAUSER10100, as Jira 8 does for new users), the others by lower-case name.
func seedJira(t *testing.T, tg target, first, n int) {
	t.Helper()
	users := []string{"JIRAUSER10100", "bob", "carol", "dave", "Admin"}
	p := tg.d.Placeholder
	q := fmt.Sprintf("INSERT INTO remembermetoken VALUES (%s, %s, %s, %s)", p(1), p(2), p(3), p(4))
	tx, err := tg.sql.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		id := first + i
		var created any = seedBase.Add(time.Duration(id) * time.Minute)
		if id%17 == 0 {
			created = nil
		}
		if _, err := tx.Exec(q, id, created, fmt.Sprintf("%040x", id*7919), users[id%len(users)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func setupJira(t *testing.T, tg target, n int) {
	t.Helper()
	for _, s := range jiraDDL(tg) {
		mustExec(t, tg.sql, s)
	}
	p := tg.d.Placeholder
	for i, u := range [][2]string{{"JIRAUSER10100", "alice"}, {"bob", "bob"}, {"carol", "carol"}, {"dave", "dave"}, {"admin", "admin"}} {
		mustExec(t, tg.sql, fmt.Sprintf("INSERT INTO app_user VALUES (%s, %s, %s)", p(1), p(2), p(3)), 10100+i, u[0], u[1])
	}
	seedJira(t, tg, 1, n)
}
