// Package credentials benchmarks `reauth credentials`' read of a big personal access token table
// against a hand-written SELECT of the same rows, on real PostgreSQL and MariaDB.
package credentials

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/testenv"
	"github.com/reauth/reauth/sqlstore"
)

var rows = flag.Int("rows", 100000, "personal access tokens to load")

type engine struct {
	name  string
	open  func(testing.TB) *testenv.DB
	ddl   []string
	load  string // one %d: the row count
	plain string // the hand-written SELECT
	db    func(*testenv.DB) reauth.Database
}

var engines = []engine{
	{
		name: "postgres", open: testenv.Postgres,
		ddl: []string{`CREATE TABLE "AO_81F455_PERSONAL_TOKEN" ("CREATED_AT" timestamp NOT NULL, "EXPIRING_AT" timestamp NOT NULL, "HASHED_TOKEN" varchar(255) NOT NULL,
			"ID" bigint PRIMARY KEY, "LAST_ACCESSED_AT" timestamp, "NAME" varchar(255) NOT NULL, "NOTIFICATION_STATE" varchar(255) NOT NULL, "TOKEN_ID" varchar(255) NOT NULL, "USER_KEY" varchar(255) NOT NULL)`,
			`CREATE TABLE app_user (id bigint PRIMARY KEY, user_key varchar(255), lower_user_name varchar(255))`,
			`INSERT INTO app_user SELECT g, 'JIRAUSER' || g, 'user' || g FROM generate_series(0, 9999) g`},
		load: `INSERT INTO "AO_81F455_PERSONAL_TOKEN" SELECT timestamp '2026-01-01' - g * interval '1 minute', timestamp '9999-12-31', '{PKCS5S2}x', g, NULL,
			'token ' || g, 'NOT_SENT', lpad(g::text, 12, '0'), 'JIRAUSER' || (g %% 10000) FROM generate_series(1, %d) g`,
		plain: `SELECT "ID", "TOKEN_ID", "USER_KEY", "NAME", "CREATED_AT", "LAST_ACCESSED_AT", "EXPIRING_AT" FROM "AO_81F455_PERSONAL_TOKEN" ORDER BY "ID"`,
		db: func(x *testenv.DB) reauth.Database {
			return reauth.Database{Engine: reauth.Postgres, Host: x.Host, Port: x.Port, Name: x.Name, User: x.User,
				Password: reauth.NewSecret(x.Pass), Params: map[string]string{"sslmode": "disable"}}
		},
	},
	{
		name: "mariadb", open: testenv.MariaDB,
		ddl: []string{"CREATE TABLE `AO_81F455_PERSONAL_TOKEN` (`CREATED_AT` datetime NOT NULL, `EXPIRING_AT` datetime NOT NULL, `HASHED_TOKEN` varchar(255) NOT NULL, " +
			"`ID` bigint PRIMARY KEY, `LAST_ACCESSED_AT` datetime, `NAME` varchar(255) NOT NULL, `NOTIFICATION_STATE` varchar(255) NOT NULL, `TOKEN_ID` varchar(255) NOT NULL, `USER_KEY` varchar(255) NOT NULL)",
			"CREATE TABLE app_user (id bigint PRIMARY KEY, user_key varchar(255), lower_user_name varchar(255))",
			"INSERT INTO app_user SELECT seq, CONCAT('JIRAUSER', seq), CONCAT('user', seq) FROM seq_0_to_9999"},
		load: "INSERT INTO `AO_81F455_PERSONAL_TOKEN` SELECT TIMESTAMP '2026-01-01 00:00:00' - INTERVAL seq MINUTE, TIMESTAMP '9999-12-31 00:00:00', '{PKCS5S2}x', seq, NULL, " +
			"CONCAT('token ', seq), 'NOT_SENT', LPAD(seq, 12, '0'), CONCAT('JIRAUSER', seq %% 10000) FROM seq_1_to_%d",
		plain: "SELECT `ID`, `TOKEN_ID`, `USER_KEY`, `NAME`, `CREATED_AT`, `LAST_ACCESSED_AT`, `EXPIRING_AT` FROM `AO_81F455_PERSONAL_TOKEN` ORDER BY `ID`",
		db: func(x *testenv.DB) reauth.Database {
			return reauth.Database{Engine: reauth.MariaDB, Host: x.Host, Port: x.Port, Name: x.Name, User: x.User, Password: reauth.NewSecret(x.Pass)}
		},
	},
}

// BenchmarkListPATs: reauth's read (owners mapped, flags, SSO) of N PATs, and the hand-written
// SELECT of the same columns scanned by database/sql, in the same run. One JSON line per engine.
func BenchmarkListPATs(b *testing.B) {
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			x := e.open(b)
			for _, q := range append(e.ddl, fmt.Sprintf(e.load, *rows)) {
				if _, err := x.SQL.Exec(q); err != nil {
					b.Fatalf("%s: %v", q, err)
				}
			}
			ctx := context.Background()
			p, _ := atlassian.Lookup("jira")
			for i := 0; i < b.N; i++ {
				start := time.Now()
				r, err := sqlstore.OpenCredentials(ctx, e.db(x), sqlstore.Options{})
				if err != nil {
					b.Fatal(err)
				}
				rep, err := r.ReadCredentials(ctx, p, time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC))
				r.Close()
				if err != nil || len(rep.Credentials) != *rows {
					b.Fatalf("read %d of %d: %v", len(rep.Credentials), *rows, err)
				}
				tool := time.Since(start)
				start = time.Now()
				res, err := x.SQL.Query(e.plain)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for res.Next() {
					var id, tid, key, name string
					var c, l, ex any
					if err := res.Scan(&id, &tid, &key, &name, &c, &l, &ex); err != nil {
						b.Fatal(err)
					}
					n++
				}
				res.Close()
				plain := time.Since(start)
				line, _ := json.Marshal(map[string]any{"engine": e.name, "rows": n, "list_s": tool.Seconds(), "hand_select_s": plain.Seconds(),
					"ratio": tool.Seconds() / plain.Seconds()})
				fmt.Println(string(line))
			}
		})
	}
}
