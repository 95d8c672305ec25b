package sqlstore

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth/backup"
)

// sqlOnlyStore is a Store resolved by hand, for engines with no server here (SQL Server,
// Oracle): the tests check the exact SQL text it would send.
func sqlOnlyStore(t *testing.T, d Dialect, prod string, schema string, upper bool) *Store {
	p := product(t, prod)
	name := func(s string) string {
		if upper {
			return strings.ToUpper(s)
		}
		return s
	}
	var cols []backup.Column
	for _, c := range p.Table.Columns {
		cols = append(cols, backup.Column{Name: name(c), SQLType: "numeric", Kind: backup.KindInt})
	}
	s := &Store{dialect: d, product: p}
	tn := p.Table.Name
	s.useTable(TableInfo{Schema: schema, Name: name(tn), Qualified: d.Qualify(schema, name(tn)), Columns: cols,
		ID: name(p.Table.ID), User: name(p.Table.User), Time: name(p.Table.Time), TimeKind: p.Table.TimeKind})
	if p.Table.UserKeyTable != "" {
		s.userKeys = &auxTable{qualified: d.Qualify(schema, name(p.Table.UserKeyTable)), key: d.Quote(name(p.Table.UserKeyKeyColumn)),
			name: d.Quote(name(p.Table.UserKeyNameColumn))}
	}
	return s
}

func TestGeneratedSQL(t *testing.T) {
	before := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	o := PurgeOptions{BatchSize: 1000, Before: &before, ExcludeUsers: []string{"Admin"}}
	cases := []struct {
		name        string
		s           *Store
		batch, del  string
		nargs       int
		top, insert string
	}{
		{
			name: "sqlserver jira dbo",
			s:    sqlOnlyStore(t, SQLServer{}, "jira", "dbo", false),
			batch: "SELECT TOP (1000) [id], [created], [token], [username] FROM [dbo].[remembermetoken] WITH (UPDLOCK, ROWLOCK) " +
				"WHERE [id] > @p1 AND [id] <= @p2 AND [created] < @p3 AND ([username] IS NULL OR NOT (LOWER([username]) IN (@p4) OR " +
				"[username] IN (SELECT [user_key] FROM [dbo].[app_user] WHERE LOWER([lower_user_name]) IN (@p5) AND [user_key] IS NOT NULL))) ORDER BY [id]",
			del:    "DELETE FROM [dbo].[remembermetoken] WHERE [id] IN (@p1, @p2, @p3)",
			nargs:  5,
			top:    "SELECT TOP (5) [username], COUNT(*) FROM [dbo].[remembermetoken] GROUP BY [username] ORDER BY COUNT(*) DESC, [username]",
			insert: "INSERT INTO [dbo].[remembermetoken] ([id], [created], [token], [username]) VALUES (@p1, @p2, @p3, @p4)",
		},
		{
			name: "oracle jira upper case",
			s:    sqlOnlyStore(t, Oracle{}, "jira", "JIRA", true),
			batch: `SELECT "ID", "CREATED", "TOKEN", "USERNAME" FROM "JIRA"."REMEMBERMETOKEN" WHERE "ID" IN (SELECT "ID" FROM (SELECT "ID" FROM "JIRA"."REMEMBERMETOKEN" ` +
				`WHERE "ID" > :1 AND "ID" <= :2 AND "CREATED" < :3 AND ("USERNAME" IS NULL OR NOT (LOWER("USERNAME") IN (:4) OR "USERNAME" IN ` +
				`(SELECT "USER_KEY" FROM "JIRA"."APP_USER" WHERE LOWER("LOWER_USER_NAME") IN (:5) AND "USER_KEY" IS NOT NULL))) ORDER BY "ID") ` +
				`WHERE ROWNUM <= 1000) ORDER BY "ID" FOR UPDATE`,
			del:    `DELETE FROM "JIRA"."REMEMBERMETOKEN" WHERE "ID" IN (:1, :2, :3)`,
			nargs:  5,
			top:    `SELECT "USERNAME", COUNT(*) FROM "JIRA"."REMEMBERMETOKEN" GROUP BY "USERNAME" ORDER BY COUNT(*) DESC, "USERNAME" FETCH FIRST 5 ROWS ONLY`,
			insert: `INSERT INTO "JIRA"."REMEMBERMETOKEN" ("ID", "CREATED", "TOKEN", "USERNAME") VALUES (:1, :2, :3, :4)`,
		},
		{
			name: "postgres confluence epoch ms",
			s:    sqlOnlyStore(t, Postgres{}, "confluence", "public", false),
			batch: `SELECT "id", "created", "token", "username" FROM "public"."remembermetoken" WHERE "id" > $1 AND "id" <= $2 AND "created" < $3 ` +
				`AND ("username" IS NULL OR NOT LOWER("username") IN ($4)) ORDER BY "id" LIMIT 1000 FOR UPDATE`,
			del:    `DELETE FROM "public"."remembermetoken" WHERE "id" IN ($1, $2, $3)`,
			nargs:  4,
			top:    `SELECT "username", COUNT(*) FROM "public"."remembermetoken" GROUP BY "username" ORDER BY COUNT(*) DESC, "username" LIMIT 5`,
			insert: `INSERT INTO "public"."remembermetoken" ("id", "created", "token", "username") VALUES ($1, $2, $3, $4)`,
		},
		{
			name: "mysql quoting",
			s:    sqlOnlyStore(t, MySQL{}, "bamboo", "bam`boo", false),
			batch: "SELECT `id`, `created`, `token`, `username` FROM `bam``boo`.`rememberme_token` WHERE `id` > ? AND `id` <= ? AND `created` < ? " +
				"AND (`username` IS NULL OR NOT LOWER(`username`) IN (?)) ORDER BY `id` LIMIT 1000 FOR UPDATE",
			del:    "DELETE FROM `bam``boo`.`rememberme_token` WHERE `id` IN (?, ?, ?)",
			nargs:  4,
			top:    "SELECT `username`, COUNT(*) FROM `bam``boo`.`rememberme_token` GROUP BY `username` ORDER BY COUNT(*) DESC, `username` LIMIT 5",
			insert: "INSERT INTO `bam``boo`.`rememberme_token` (`id`, `created`, `token`, `username`) VALUES (?, ?, ?, ?)",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := c.s
			got, args := s.batchSQL(math.MinInt64, 99, o, o.batchSize())
			if got != c.batch {
				t.Errorf("batch select:\n got %s\nwant %s", got, c.batch)
			}
			if len(args) != c.nargs || args[0] != int64(math.MinInt64) || args[1] != int64(99) {
				t.Errorf("args %v", args)
			}
			// Confluence's time column is epoch milliseconds: the bound value must be too.
			if s.info.TimeKind == "epoch_ms" && args[2] != before.UnixMilli() {
				t.Errorf("epoch ms arg %v", args[2])
			}
			if d := deleteByIDs(s.dialect, s.info.Qualified, s.qID, 3); d != c.del {
				t.Errorf("delete:\n got %s\nwant %s", d, c.del)
			}
			top := s.dialect.SelectTop(s.qUser+", COUNT(*)", s.info.Qualified, "", s.qUser, "COUNT(*) DESC, "+s.qUser, 5)
			if top != c.top {
				t.Errorf("top:\n got %s\nwant %s", top, c.top)
			}
			if ins := s.insertSQL(s.info.Columns, map[int]int{0: 0, 1: 1, 2: 2, 3: 3}); ins != c.insert {
				t.Errorf("insert:\n got %s\nwant %s", ins, c.insert)
			}
		})
	}
}

// Deletes are split below each engine's bind-parameter limit (SQL Server 2100, Oracle 1000).
func TestBindLimits(t *testing.T) {
	for _, d := range []Dialect{SQLServer{}, Oracle{}, Postgres{}, MySQL{}, SQLite{}} {
		n := d.MaxBindParams()
		if (d.Engine() == "sqlserver" && n > 2100) || (d.Engine() == "oracle" && n > 1000) || n < DefaultBatchSize/2 {
			t.Errorf("%s: %d bind params per statement", d.Engine(), n)
		}
		if got := strings.Count(deleteByIDs(d, "t", "id", n), ","); got != n-1 {
			t.Errorf("%s: %d ids in delete", d.Engine(), got+1)
		}
	}
}

func TestLockSQL(t *testing.T) {
	checks := map[string][]string{
		sqlServerLocker.acquireSQL: {"sp_getapplock", "@LockOwner = 'Session'", "@LockTimeout = 0"},
		sqlServerLocker.releaseSQL: {"sp_releaseapplock", "@LockOwner = 'Session'"},
		oracleAcquireSQL:           {"DBMS_LOCK.REQUEST", "timeout => 0", "release_on_commit => FALSE"},
		oracleReleaseSQL:           {"DBMS_LOCK.RELEASE"},
		mysqlLocker.acquireSQL:     {"GET_LOCK(?, 0)"},
		mysqlLocker.holderSQL:      {"IS_USED_LOCK(?)", "PROCESSLIST"},
		pgLocker.acquireSQL:        {"pg_try_advisory_lock($1)"},
		pgLocker.holderSQL:         {"pg_locks", "pg_stat_activity", "application_name", "client_addr"},
	}
	for q, want := range checks {
		for _, w := range want {
			if !strings.Contains(q, w) {
				t.Errorf("%q lacks %q", q, w)
			}
		}
	}
	if id := oracleLockID("reauth:oracle:JIRA"); id < 0 || id > 1073741823 {
		t.Errorf("oracle lock id %d outside DBMS_LOCK's user range", id)
	}
	if a, b := fmt.Sprint(pgLockKey("x")), fmt.Sprint(pgLockKey("x")); a != b || strings.HasPrefix(a, "-") {
		t.Errorf("pg lock key %s %s", a, b)
	}
}

func TestKindOf(t *testing.T) {
	cases := map[string]backup.Kind{
		"numeric": backup.KindInt, "decimal": backup.KindInt, "NUMBER": backup.KindInt, "bigint": backup.KindInt, "integer": backup.KindInt,
		"timestamp with time zone": backup.KindTime, "datetime": backup.KindTime, "DATE": backup.KindTime, "TIMESTAMP(6) WITH TIME ZONE": backup.KindTime,
		"datetime2": backup.KindTime, "boolean": backup.KindBool, "bit": backup.KindBool, "character varying": backup.KindString,
		"VARCHAR2": backup.KindString, "nvarchar": backup.KindString, "text": backup.KindString, "bytea": backup.KindBytes,
		"double precision": backup.KindFloat,
	}
	for typ, want := range cases {
		if got := kindOf(typ, 0); got != want {
			t.Errorf("%s: %s, want %s", typ, got, want)
		}
	}
	if kindOf("numeric", 2) != backup.KindString {
		t.Error("a decimal with a fraction must stay exact (text)")
	}
}

// PostgreSQL deletes a batch with one array parameter cast to the id column's own type (so the
// primary key index is used); other id types fall back to IN lists.
func TestPostgresArrayDelete(t *testing.T) {
	d := Postgres{}
	if got := d.DeleteByArray(`"public"."t"`, `"id"`, "numeric"); got != `DELETE FROM "public"."t" WHERE "id" = ANY(CAST($1 AS numeric[]))` {
		t.Fatal(got)
	}
	if got := d.DeleteByArray(`"t"`, `"id"`, "BIGINT"); got != `DELETE FROM "t" WHERE "id" = ANY(CAST($1 AS bigint[]))` {
		t.Fatal(got)
	}
	for _, typ := range []string{"text", "character varying", "bigint); DROP TABLE x; --"} {
		if got := d.DeleteByArray(`"t"`, `"id"`, typ); got != "" {
			t.Fatalf("%s: %s", typ, got)
		}
	}
}

func TestDeleteReturningSQL(t *testing.T) {
	cases := []struct {
		d    Dialect
		want string
	}{
		{Postgres{}, `DELETE FROM "t" WHERE "id" = ANY(ARRAY(SELECT "id" FROM "t" WHERE c LIMIT 5)) RETURNING "id", "x"`},
		{SQLite{}, `DELETE FROM "t" WHERE "id" IN (SELECT "id" FROM "t" WHERE c LIMIT 5) RETURNING "id", "x"`},
		{MySQL{MariaDB: true, Returning: true}, "DELETE FROM `t` WHERE c ORDER BY `id` LIMIT 5 RETURNING `id`, `x`"},
		{MySQL{}, ""}, // MySQL has no RETURNING: SELECT … FOR UPDATE, then DELETE
	}
	for _, c := range cases {
		q := c.d.Quote
		got := c.d.(returningDeleter).DeleteReturning(q("id")+", "+q("x"), q("t"), q("id"), "c", 5)
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.d.Engine(), got, c.want)
		}
	}
	for _, d := range []Dialect{SQLServer{}, Oracle{}} {
		if _, ok := d.(returningDeleter); ok {
			t.Errorf("%s: RETURNING path not tested against a server here", d.Engine())
		}
	}
}
