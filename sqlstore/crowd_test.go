package sqlstore

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/backup"
)

// crowdDDL is cwd_token as a real Crowd 5 PostgreSQL dump creates it (MariaDB: the same columns).
func crowdDDL(tg target) string {
	ts := "timestamp"
	if tg.name == "mariadb" {
		ts = "datetime"
	}
	return "CREATE TABLE cwd_token (id bigint NOT NULL PRIMARY KEY, directory_id bigint NOT NULL, entity_name varchar(255) NOT NULL, " +
		"random_number bigint NOT NULL, identifier_hash varchar(255) NOT NULL, random_hash varchar(255) NOT NULL, created_date " + ts +
		" NOT NULL, last_accessed_date " + ts + " NOT NULL, last_accessed_time bigint DEFAULT 0 NOT NULL, duration bigint)"
}

// seedCrowd writes users' SSO sessions (directory 32769) and applications' tokens (directory -1,
// Crowd's APPLICATION_TOKEN_DIRECTORY_ID), interleaved by id.
func seedCrowd(t *testing.T, tg target) (users, apps int) {
	t.Helper()
	mustExec(t, tg.sql, crowdDDL(tg))
	for i := 1; i <= 40; i++ {
		dir, name := int64(32769), "user"+string(rune('a'+i%7))
		if i%4 == 0 {
			dir, name = -1, []string{"jira", "confluence", "crowd"}[i%3]
			apps++
		} else {
			users++
		}
		mustExec(t, tg.sql, "INSERT INTO cwd_token (id, directory_id, entity_name, random_number, identifier_hash, random_hash, created_date, last_accessed_date) "+
			"VALUES ("+strconv.Itoa(i)+", "+itoa64(dir)+", '"+name+"', 7, 'ih"+strconv.Itoa(i)+"', 'rh"+strconv.Itoa(i)+"', '2024-01-01 00:00:00', '2024-01-01 00:00:00')")
	}
	return users, apps
}

func itoa64(i int64) string { return strconv.FormatInt(i, 10) }

func countWhere(t *testing.T, tg target, cond string) int {
	t.Helper()
	var n int
	if err := tg.sql.QueryRow("SELECT COUNT(*) FROM cwd_token WHERE " + cond).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCrowdPurgeKeepsApplicationTokens: a Crowd purge deletes every user's SSO session and not one
// application token (directory_id = -1), on every engine; the backup holds exactly the users' rows;
// inspect and the users list leave the applications out.
func TestCrowdPurgeKeepsApplicationTokens(t *testing.T) {
	for _, tc := range targets {
		t.Run(tc.name, func(t *testing.T) {
			tg := tc.open(t)
			users, apps := seedCrowd(t, tg)
			appRows := snapshot(t, tg.sql, "cwd_token WHERE directory_id = -1", "id")
			s := openStore(t, tg, "crowd", Options{})
			if got := s.Table().Keep; got != "directory_id = -1" {
				t.Fatalf("keep rule %q", got)
			}
			in, err := s.Inspect(ctxT(t), 10)
			if err != nil {
				t.Fatal(err)
			}
			if in.Total != int64(users) || in.Kept == "" {
				t.Fatalf("inspect counts %d tokens (kept %q), want the %d users' sessions only", in.Total, in.Kept, users)
			}
			for _, u := range in.Top {
				if u.User == "jira" || u.User == "confluence" || u.User == "crowd" {
					t.Fatalf("inspect lists application %q as a user", u.User)
				}
			}
			holders, err := s.tokenHolders(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range holders {
				if !strings.HasPrefix(h, "user") {
					t.Fatalf("token holders include application %q", h)
				}
			}
			plan, err := s.Plan(ctxT(t), PurgeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if plan.ToDelete != int64(users) || plan.ToKeep != int64(apps) {
				t.Fatalf("plan: delete %d keep %d, want %d and %d", plan.ToDelete, plan.ToKeep, users, apps)
			}
			path := filepath.Join(t.TempDir(), "crowd.jsonl.gz")
			res, err := s.Purge(ctxT(t), PurgeOptions{BackupPath: path, BatchSize: 7})
			if err != nil {
				t.Fatal(err)
			}
			if res.Deleted != int64(users) {
				t.Fatalf("deleted %d, want %d", res.Deleted, users)
			}
			if n := countWhere(t, tg, "directory_id <> -1"); n != 0 {
				t.Fatalf("%d user sessions left", n)
			}
			if got := snapshot(t, tg.sql, "cwd_token WHERE directory_id = -1", "id"); strings.Join(got, "\n") != strings.Join(appRows, "\n") {
				t.Fatalf("application tokens changed:\nbefore %v\nafter  %v", appRows, got)
			}
			r, err := backup.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			dirCol := -1
			for i, c := range r.Manifest().Columns {
				if strings.EqualFold(c.Name, "directory_id") {
					dirCol = i
				}
			}
			if dirCol < 0 {
				t.Fatal("backup has no directory_id column")
			}
			n := 0
			for {
				row, err := r.Next()
				if err != nil {
					break
				}
				n++
				if fmt.Sprint(row[dirCol]) == "-1" {
					t.Fatalf("backup holds an application token: %v", row[dirCol])
				}
			}
			if n != users {
				t.Fatalf("backup holds %d rows, want %d", n, users)
			}
		})
	}
}

// TestCrowdAppTokenRuleOverride: the inventory's rule replaces the catalog's (here: the sessions
// of directory 32769 are "kept" instead), and a rule naming a column the table lacks is refused
// before anything is read for a purge.
func TestCrowdAppTokenRuleOverride(t *testing.T) {
	tg := pgTarget(t)
	users, apps := seedCrowd(t, tg)
	s := openStore(t, tg, "crowd", Options{Keep: atlassian.RowRule{Column: "DIRECTORY_ID", Equals: 32769}})
	plan, err := s.Plan(ctxT(t), PurgeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if plan.ToDelete != int64(apps) || plan.ToKeep != int64(users) {
		t.Fatalf("override: delete %d keep %d, want %d and %d", plan.ToDelete, plan.ToKeep, apps, users)
	}
	_, err = Open(ctxT(t), tg.db, product(t, "crowd"), Options{Keep: atlassian.RowRule{Column: "app_flag", Equals: 1}})
	if err == nil || !strings.Contains(err.Error(), "app_flag") || !strings.Contains(err.Error(), "application tokens") {
		t.Fatalf("a rule on a missing column: %v", err)
	}
}

// TestCrowdCompanionTable: cwd_remember_me_token opens beside cwd_token on the same connection and
// under the same run lock, purges into its own backup, and is simply absent on a Crowd without it.
func TestCrowdCompanionTable(t *testing.T) {
	for _, tc := range targets[:2] { // the real servers
		t.Run(tc.name, func(t *testing.T) {
			tg := tc.open(t)
			seedCrowd(t, tg)
			s := openStore(t, tg, "crowd", Options{})
			if _, ok, err := s.Companion(ctxT(t)); ok || err != nil {
				t.Fatalf("no cwd_remember_me_token yet: ok=%v err=%v", ok, err)
			}
			ts := "timestamp"
			if tg.name == "mariadb" {
				ts = "datetime"
			}
			mustExec(t, tg.sql, "CREATE TABLE cwd_remember_me_token (id bigint NOT NULL PRIMARY KEY, username varchar(255) NOT NULL, remote_address varchar(255), "+
				"token varchar(64) NOT NULL, series varchar(64) NOT NULL, created_date "+ts+" NOT NULL, used_date "+ts+", directory_id bigint NOT NULL)")
			for i := 1; i <= 9; i++ {
				mustExec(t, tg.sql, "INSERT INTO cwd_remember_me_token (id, username, token, series, created_date, directory_id) VALUES ("+
					strconv.Itoa(i)+", 'user"+strconv.Itoa(i%3)+"', 't"+strconv.Itoa(i)+"', 's"+strconv.Itoa(i)+"', '2024-01-01 00:00:00', 32769)")
			}
			release, err := s.Lock(ctxT(t), "test")
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			c, ok, err := s.Companion(ctxT(t))
			if err != nil || !ok {
				t.Fatalf("companion: ok=%v err=%v", ok, err)
			}
			if c.Table().Name != "cwd_remember_me_token" || c.Table().Keep != "" {
				t.Fatalf("companion table %+v", c.Table())
			}
			res, err := c.Purge(ctxT(t), PurgeOptions{BackupPath: filepath.Join(t.TempDir(), "rm.jsonl.gz"), ExcludeUsers: []string{"user0"}})
			if err != nil {
				t.Fatal(err)
			}
			var left int
			if err := tg.sql.QueryRow("SELECT COUNT(*) FROM cwd_remember_me_token").Scan(&left); err != nil {
				t.Fatal(err)
			}
			if res.Deleted != 6 || left != 3 {
				t.Fatalf("deleted %d, left %d; want 6 and the excluded user's 3", res.Deleted, left)
			}
			c.Close() // a companion's Close leaves its parent's connection and lock alone
			if err := s.CheckLock(ctxT(t)); err != nil {
				t.Fatalf("parent lock after the companion closed: %v", err)
			}
			if n := countWhere(t, tg, "1=1"); n != 40 {
				t.Fatalf("cwd_token changed: %d rows", n)
			}
		})
	}
}
