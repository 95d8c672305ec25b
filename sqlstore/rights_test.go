package sqlstore

import (
	"context"
	"strings"
	"testing"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/testenv"
)

// A user with SELECT but no DELETE on the token table is refused in preflight (exit 4), and one
// with DELETE passes, with nothing deleted either way.
func TestCheckDeleteRights(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx := context.Background()
	role := "ro_" + pg.Name
	for _, q := range []string{
		`CREATE TABLE remembermetoken (id numeric(18,0) PRIMARY KEY, created timestamptz, token varchar(255), username varchar(255))`,
		`INSERT INTO remembermetoken VALUES (1, now(), 't', 'alice')`,
		`CREATE ROLE ` + role + ` LOGIN PASSWORD 'ropw'`,
		`GRANT SELECT ON remembermetoken TO ` + role,
	} {
		if _, err := pg.SQL.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_, _ = pg.SQL.Exec(`REVOKE ALL ON remembermetoken FROM ` + role)
		_, _ = pg.SQL.Exec(`DROP OWNED BY ` + role)
		_, _ = pg.SQL.Exec(`DROP ROLE ` + role)
	})
	jira, _ := atlassian.Lookup("jira")
	open := func(user, pw string) *Store {
		st, err := Open(ctx, reauth.Database{Engine: reauth.Postgres, Host: pg.Host, Port: pg.Port, Name: pg.Name,
			User: user, Password: reauth.NewSecret(pw), Params: map[string]string{"sslmode": "disable"}}, jira, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	err := open(role, "ropw").CheckDeleteRights(ctx)
	if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(reauth.HintOf(err), "grant DELETE") {
		t.Fatalf("read-only user: err = %v (code %d)", err, reauth.CodeOf(err))
	}
	if strings.Contains(err.Error(), "ropw") {
		t.Fatal("password in error")
	}
	if err := open(pg.User, pg.Pass).CheckDeleteRights(ctx); err != nil {
		t.Fatalf("owner: %v", err)
	}
	var n int
	if err := pg.SQL.QueryRow(`SELECT count(*) FROM remembermetoken`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows after the checks = %d, %v; want 1", n, err)
	}
}
