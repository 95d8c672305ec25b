package sandbox

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

// model is how one product keeps its remember-me tokens: the table the product really creates
// (real column names and types, per engine, from the dumps in ../shared/realcases/schema), and how
// a token row names its user.
type model struct {
	product atlassian.Product
	table   string
	// seraph: cookie "<id>:<token>", row (id, created|epoch ms, token, username).
	// bitbucket: cookie base64("<series>:<token>"), row (id, series, token, user_id, expiry...).
	bitbucket bool
	epochMS   bool // Confluence stores created as bigint milliseconds
	// crowd: cookie crowd.token_key = cwd_token.random_hash; application tokens (directory_id -1)
	// beside the users' sessions, and cwd_remember_me_token (crowd.go).
	crowd bool
	// userRef says what the token row's user column holds: "name", "key" (Jira app_user.user_key)
	// or "id" (Bitbucket stash_user.id).
	userRef string
}

func modelFor(p atlassian.Product) (model, error) {
	m := model{product: p, table: p.Table.Name, userRef: "name"}
	switch p.ID {
	case atlassian.Jira:
		m.userRef = "key"
	case atlassian.Confluence:
		m.epochMS = true
	case atlassian.Bitbucket:
		m.bitbucket, m.userRef = true, "id"
	case atlassian.Bamboo:
	case atlassian.Fisheye:
		// UNCONFIRMED: no public DDL names Fisheye's table. The catalog finds it at run time by a
		// name containing "remember"; this name satisfies that.
		m.table = "fe_remember_me"
	case atlassian.Crowd:
		m.crowd = true
	default:
		return model{}, reauth.Usage("use one of jira, confluence, bitbucket, bamboo, fisheye, crowd",
			"the sandbox does not simulate %s", p.Name)
	}
	return m, nil
}

// ddl returns the statements that create the product's tables on engine e, plus the sandbox's
// own two tables (its user directory, and the cross-node session-kill queue).
func (m model) ddl(e reauth.Engine) []string {
	my := e == reauth.MariaDB
	ts := "timestamp with time zone"
	switch e {
	case reauth.MariaDB:
		ts = "datetime"
	case reauth.SQLite:
		ts = "TIMESTAMP"
	}
	tail := ""
	if my {
		tail = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
	}
	var out []string
	switch m.product.ID {
	case atlassian.Jira:
		if my { // as in a real Jira 7 MySQL dump: upper-case column names
			out = append(out,
				"CREATE TABLE remembermetoken (ID decimal(18,0) NOT NULL, CREATED datetime DEFAULT NULL, TOKEN varchar(255) DEFAULT NULL, USERNAME varchar(255) DEFAULT NULL, PRIMARY KEY (ID), KEY remembermetoken_username_index (USERNAME))"+tail,
				"CREATE TABLE app_user (ID decimal(18,0) NOT NULL, user_key varchar(255) DEFAULT NULL, lower_user_name varchar(255) DEFAULT NULL, PRIMARY KEY (ID), UNIQUE KEY uk_user_key (user_key), UNIQUE KEY uk_lower_user_name (lower_user_name))"+tail)
		} else {
			out = append(out,
				"CREATE TABLE remembermetoken (id numeric(18,0) NOT NULL, created "+ts+", token varchar(255), username varchar(255), CONSTRAINT pk_remembermetoken PRIMARY KEY (id))",
				"CREATE INDEX remembermetoken_username_index ON remembermetoken (username)",
				"CREATE TABLE app_user (id numeric(18,0) NOT NULL, user_key varchar(255), lower_user_name varchar(255), CONSTRAINT pk_app_user PRIMARY KEY (id))",
				"CREATE UNIQUE INDEX uk_user_key ON app_user (user_key)",
				"CREATE UNIQUE INDEX uk_lower_user_name ON app_user (lower_user_name)")
		}
	case atlassian.Confluence:
		out = append(out,
			"CREATE TABLE remembermetoken (id bigint NOT NULL, username varchar(255) NOT NULL, created bigint NOT NULL, token varchar(255) NOT NULL, PRIMARY KEY (id))"+tail,
			"CREATE INDEX rmt_username_idx ON remembermetoken (username)")
	case atlassian.Bitbucket:
		out = append(out,
			"CREATE TABLE sta_remember_me_token (id bigint NOT NULL, series varchar(64) NOT NULL, token varchar(64) NOT NULL, user_id integer NOT NULL, expiry_timestamp "+ts+" NOT NULL, claimed boolean NOT NULL, claimed_address varchar(255), PRIMARY KEY (id))"+tail,
			"CREATE UNIQUE INDEX uk_remember_me_series_token ON sta_remember_me_token (series, token)",
			"CREATE INDEX idx_remember_me_token_user_id ON sta_remember_me_token (user_id)",
			"CREATE TABLE stash_user (id integer NOT NULL, name varchar(255) NOT NULL, slug varchar(255) NOT NULL, PRIMARY KEY (id))"+tail)
	case atlassian.Bamboo: // UNCONFIRMED: Seraph's shape, as the catalog assumes
		out = append(out, "CREATE TABLE rememberme_token (id bigint NOT NULL, created "+strings.Replace(ts, " with time zone", "", 1)+", token varchar(255), username varchar(255), PRIMARY KEY (id))"+tail)
	case atlassian.Fisheye: // UNCONFIRMED shape
		out = append(out, "CREATE TABLE fe_remember_me (id bigint NOT NULL, username varchar(255) NOT NULL, token varchar(255) NOT NULL, created "+ts+", PRIMARY KEY (id))"+tail)
	case atlassian.Crowd: // as a real Crowd 5 PostgreSQL dump creates them (timestamp without time zone)
		out = append(out, crowdDDL(strings.Replace(ts, " with time zone", "", 1), tail)...)
	}
	return append(out,
		"CREATE TABLE sandbox_user (id integer NOT NULL, name varchar(255) NOT NULL, pwhash varchar(255) NOT NULL, is_admin integer NOT NULL, PRIMARY KEY (id))"+tail,
		"CREATE TABLE sandbox_session_kill (id bigint NOT NULL, username varchar(255) NOT NULL, created bigint NOT NULL, PRIMARY KEY (id))"+tail)
}

// createSchema creates the tables, refusing a database that already has them: the sandbox must
// never write into a real product's database.
func (m model) createSchema(ctx context.Context, db *sql.DB, e reauth.Engine) error {
	for _, t := range []string{m.table, "sandbox_user"} {
		if _, err := db.ExecContext(ctx, "SELECT 1 FROM "+t+" WHERE 1 = 0"); err == nil {
			return reauth.Refused("point --db at an empty database (or leave --db out for an embedded SQLite file)",
				"the database already has a table %q: it may be a real product's database, so the sandbox will not touch it", t)
		}
	}
	for _, q := range m.ddl(e) {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create sandbox schema: %w", err)
		}
	}
	return nil
}

// adoptSchema accepts the product's tables as a restored dump created them (checking that the token
// table is there) and adds the sandbox's own tables.
func (m model) adoptSchema(ctx context.Context, db *sql.DB, e reauth.Engine) error {
	if _, err := db.ExecContext(ctx, "SELECT 1 FROM "+m.table+" WHERE 1 = 0"); err != nil {
		return reauth.Refused("restore the product's dump into the database first, or leave out --adopt-schema",
			"adopt schema: the database has no table %q: %v", m.table, err)
	}
	ddl := m.ddl(e)
	for _, q := range ddl[len(ddl)-2:] { // the sandbox's own two tables come last
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create sandbox tables: %w", err)
		}
	}
	return nil
}

// seedUsers writes the user directory: admin plus names, in the sandbox's table and in the
// product's own user table where its token rows point (Jira app_user, Bitbucket stash_user).
//
// With adopted (real) tables, user rows that the product's dump already has (by lower-case name)
// are kept, and new rows get ids above the dump's highest.
func (m model) seedUsers(ctx context.Context, db *sql.DB, e reauth.Engine, users []seedUser, adopted bool) error {
	idBase := int64(10000)
	if adopted && m.userRef == "key" {
		var max sql.NullInt64
		if err := db.QueryRowContext(ctx, "SELECT MAX(id) FROM app_user").Scan(&max); err != nil {
			return fmt.Errorf("seed users: read app_user: %w", err)
		}
		idBase = max.Int64 + 1
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("seed users: %w", err)
	}
	defer tx.Rollback()
	ins := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, rebind(e, q), args...)
		return err
	}
	for _, u := range users {
		admin := 0
		if u.Admin {
			admin = 1
		}
		if err := ins("INSERT INTO sandbox_user (id, name, pwhash, is_admin) VALUES (?, ?, ?, ?)", u.ID, u.Name, u.Hash, admin); err != nil {
			return fmt.Errorf("seed user %s: %w", u.Name, err)
		}
		switch m.userRef {
		case "key":
			var have int
			if adopted {
				if err := tx.QueryRowContext(ctx, rebind(e, "SELECT COUNT(*) FROM app_user WHERE lower_user_name = ?"), strings.ToLower(u.Name)).Scan(&have); err != nil {
					return fmt.Errorf("seed user %s: %w", u.Name, err)
				}
			}
			if have == 0 {
				err = ins("INSERT INTO app_user (id, user_key, lower_user_name) VALUES (?, ?, ?)", idBase+int64(u.ID), u.Ref, strings.ToLower(u.Name))
			}
		case "id":
			err = ins("INSERT INTO stash_user (id, name, slug) VALUES (?, ?, ?)", u.ID, u.Name, strings.ToLower(u.Name))
		}
		if err != nil {
			return fmt.Errorf("seed user %s: %w", u.Name, err)
		}
	}
	return tx.Commit()
}

// seedUser is one account of the sandbox's directory.
type seedUser struct {
	ID    int
	Name  string
	Hash  string // see hashPassword
	Admin bool
	Ref   string // what token rows store for this user (name, Jira user key, Bitbucket id)
}

// userRefFor is what the product stores in a token row for user number id called name. Jira 8+
// gives new users keys like JIRAUSER10101 while users migrated from older versions keep their
// name as key: the sandbox mixes both, as real instances do.
func (m model) userRefFor(id int, name string) string {
	switch m.userRef {
	case "key":
		if id%2 == 1 {
			return fmt.Sprintf("JIRAUSER%d", 10000+id)
		}
		return strings.ToLower(name)
	case "id":
		return fmt.Sprint(id)
	}
	return name
}
