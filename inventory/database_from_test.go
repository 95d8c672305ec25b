package inventory

import (
	"strings"
	"testing"
)

// database: {from: statefulset} with user_env/password_env parses; contradictory or unknown
// settings are refused at their line.
func TestParseDatabaseFrom(t *testing.T) {
	kube := "    kubernetes: {statefulset: prod}\n"
	inv, err := Parse([]byte("products:\n  - product: jira\n    database: {from: statefulset, user_env: REAUTH_DB_USER, password_env: REAUTH_DB_PASSWORD}\n"+kube), "/x/reauth.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db := inv.Products[0].Database
	if db.From != DatabaseFromStatefulSet || db.UserRef.Env != "REAUTH_DB_USER" || db.Password.Env != "REAUTH_DB_PASSWORD" {
		t.Fatalf("database = %+v", db)
	}
	if env := strings.Join(inv.SecretEnv(), ","); !strings.Contains(env, "REAUTH_DB_USER") {
		t.Errorf("secret env %s: the hooks would see the user variable", env)
	}
	for _, tc := range []struct{ db, want string }{
		{"{from: statefulset, jdbc_url: 'jdbc:postgresql://db/jira'}", "both from and jdbc_url are set"},
		{"{from: helm}", `database.from: unknown value "helm"`},
		{"{jdbc_url: 'jdbc:postgresql://db/jira', user: jira, user_env: U}", "both user and user_env are set"},
		{"{from: statefulset, user_env: U, user_file: f}", "both user_env and user_file are set"},
	} {
		_, err := Parse([]byte("products:\n  - product: jira\n    database: "+tc.db+"\n"+kube), "/x/reauth.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "reauth.yaml:3:") {
			t.Errorf("%s: err = %v, want %q at line 3", tc.db, err, tc.want)
		}
	}
}
