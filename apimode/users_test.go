package apimode_test

// Tests of sqlstore.SessionUsers (sqlstore/users.go belongs to this feature; the tests live here
// so that the store package's own files stay with their owner). Real PostgreSQL, MariaDB and
// SQLite, with the products' own table shapes.

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/testenv"
	"github.com/reauth/reauth/sqlstore"
)

type engineDB struct {
	name string
	sql  *sql.DB
	db   reauth.Database
}

// engines open a fresh database per engine. (Their names keep subtest names unique: a "#" that Go
// adds to repeated names would reach SQLite's file: URI as a fragment.)
func engines() map[string]func(t *testing.T) engineDB {
	return map[string]func(t *testing.T) engineDB{
		"postgres": func(t *testing.T) engineDB {
			x := testenv.Postgres(t)
			return engineDB{"postgres", x.SQL, reauth.Database{Engine: reauth.Postgres, Host: x.Host, Port: x.Port, Name: x.Name,
				User: x.User, Password: reauth.NewSecret(x.Pass)}}
		},
		"mariadb": func(t *testing.T) engineDB {
			x := testenv.MariaDB(t)
			return engineDB{"mariadb", x.SQL, reauth.Database{Engine: reauth.MariaDB, Host: x.Host, Port: x.Port, Name: x.Name,
				User: x.User, Password: reauth.NewSecret(x.Pass)}}
		},
		"sqlite": func(t *testing.T) engineDB {
			path := filepath.Join(t.TempDir(), "t.db")
			h, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { h.Close() })
			return engineDB{"sqlite", h, reauth.Database{Engine: reauth.SQLite, Name: path}}
		},
	}
}

func exec(t *testing.T, h *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := h.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestSessionUsers(t *testing.T) {
	tests := []struct {
		name    string
		product string
		ddl     []string
		src     sqlstore.UserSource
		exclude []string
		want    []string
	}{
		{
			name: "jira: active cwd_user + token holders by key, minus excluded", product: "jira",
			ddl: []string{
				"CREATE TABLE remembermetoken (id numeric(18,0) NOT NULL PRIMARY KEY, created timestamp NULL, token varchar(255), username varchar(255))",
				"CREATE TABLE app_user (id numeric(18,0) NOT NULL PRIMARY KEY, user_key varchar(255), lower_user_name varchar(255))",
				"CREATE TABLE cwd_user (id numeric(18,0) NOT NULL PRIMARY KEY, directory_id numeric(18,0), user_name varchar(255), lower_user_name varchar(255), active numeric(9,0))",
				"INSERT INTO app_user VALUES (1, 'JIRAUSER10001', 'alice'), (2, 'bob', 'bob'), (3, 'JIRAUSER10003', 'carol'), (4, 'JIRAUSER10004', 'dave'), (5, 'JIRAUSER10005', 'erin')",
				// carol is inactive but holds a token; erin is inactive without one; dave is in two directories.
				"INSERT INTO cwd_user VALUES (1, 1, 'Alice', 'alice', 1), (2, 1, 'bob', 'bob', 1), (3, 1, 'carol', 'carol', 0), (4, 1, 'dave', 'dave', 1), (5, 2, 'Dave', 'dave', 1), (6, 1, 'erin', 'erin', 0), (7, 1, 'frank', 'frank', 1)",
				"INSERT INTO remembermetoken (id, token, username) VALUES (1, 't', 'JIRAUSER10003'), (2, 't', 'bob'), (3, 't', 'JIRAUSER10001'), (4, 't', 'zed'), (5, 't', 'JIRAUSER10001')",
			},
			exclude: []string{"BOB"},
			want:    []string{"alice", "carol", "dave", "frank", "zed"},
		},
		{
			name: "bamboo: Crowd-style active T/F and user_name only", product: "bamboo",
			ddl: []string{
				"CREATE TABLE rememberme_token (id bigint NOT NULL PRIMARY KEY, created timestamp NULL, token varchar(255), username varchar(255))",
				"CREATE TABLE cwd_user (id bigint NOT NULL PRIMARY KEY, user_name varchar(255), active char(1))",
				"INSERT INTO cwd_user VALUES (1, 'Ann', 'T'), (2, 'ben', 'F'), (3, 'cat', 'T')",
				"INSERT INTO rememberme_token (id, token, username) VALUES (1, 't', 'ben'), (2, 't', 'dan'), (3, 't', 'ANN')",
			},
			want: []string{"ANN", "ben", "cat", "dan"},
		},
		{
			name: "overridden directory table and columns", product: "bamboo",
			ddl: []string{
				"CREATE TABLE rememberme_token (id bigint NOT NULL PRIMARY KEY, created timestamp NULL, token varchar(255), username varchar(255))",
				"CREATE TABLE users_dir (id bigint NOT NULL PRIMARY KEY, login varchar(255), enabled integer)",
				"INSERT INTO users_dir VALUES (1, 'gil', 1), (2, 'hal', 0)",
			},
			src:  sqlstore.UserSource{Table: "USERS_DIR", NameColumn: "login", ActiveColumn: "enabled"},
			want: []string{"gil"},
		},
		{
			name: "confluence without a directory table: token holders only", product: "confluence",
			ddl: []string{
				"CREATE TABLE remembermetoken (id bigint NOT NULL PRIMARY KEY, username varchar(255) NOT NULL, created bigint NOT NULL, token varchar(255) NOT NULL)",
				"INSERT INTO remembermetoken VALUES (1, 'x', 1, 't'), (2, 'y', 1, 't'), (3, 'X', 1, 't')",
			},
			exclude: []string{"y"},
			want:    []string{"x"},
		},
	}
	for name, open := range engines() {
		for _, tc := range tests {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				e := open(t)
				t.Log(e.name)
				exec(t, e.sql, tc.ddl...)
				p, _ := atlassian.Lookup(tc.product)
				st, err := sqlstore.Open(context.Background(), e.db, p, sqlstore.Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				var got []string
				if tc.src != (sqlstore.UserSource{}) {
					l, err := st.SessionUsersFrom(context.Background(), tc.src, tc.exclude)
					if err != nil {
						t.Fatal(err)
					}
					got = l.Users
				} else if got, err = st.SessionUsers(context.Background(), tc.exclude); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("%s: got %v, want %v", e.name, got, tc.want)
				}
			})
		}
	}
}
