package runbook

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/backup"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/rollout/methods"
	"github.com/reauth/reauth/sqlstore"
)

// tables is a unit's token table(s) and the run lock on their database: opened in prepare,
// locked in preflight, counted in plan, purged here.
type tables struct {
	db      reauth.Database
	store   TokenStore
	further []*tableRun  // the product's further token tables (Crowd's remember-me table), in catalog order
	unlock  func() error // releases the run lock, held from preflight to the report
	purge   sqlstore.PurgePlan
	rcpts   []backup.Recipient
}

// OpenStore opens a product's token table as the inventory describes it: its database block, or
// discovery from its home directory; the password from the inventory's reference, the config,
// REAUTH_DB_PASSWORD or prompt. reauth run and reauth revoke both open their stores here.
func OpenStore(ctx context.Context, inv *inventory.Inventory, ip *inventory.Product, prod atlassian.Product,
	getenv func(string) string, prompt func(string) (string, error)) (*sqlstore.Store, reauth.Database, error) {
	return OpenStoreTimeout(ctx, inv, ip, prod, getenv, prompt, 0)
}

// OpenStoreTimeout is OpenStore with each database connection bounded by connectTimeout
// (--connect-timeout; 0: sqlstore.DefaultConnectTimeout).
func OpenStoreTimeout(ctx context.Context, inv *inventory.Inventory, ip *inventory.Product, prod atlassian.Product,
	getenv func(string) string, prompt func(string) (string, error), connectTimeout time.Duration) (*sqlstore.Store, reauth.Database, error) {
	db, err := databaseOf(ctx, inv, ip, getenv)
	if err != nil {
		return nil, db, err
	}
	if err := atlassian.ResolvePassword(&db, getenv, prompt); err != nil {
		return nil, db, err
	}
	st, err := sqlstore.Open(ctx, db, prod, sqlstore.Options{Table: ip.Table, Keep: ip.AppTokenRule, ConnectTimeout: connectTimeout})
	return st, db, err
}

// databaseOf finds the product's database: from its home directory, from the inventory's
// database block, or (database: {from: statefulset}) from the env of its StatefulSet.
func databaseOf(ctx context.Context, inv *inventory.Inventory, ip *inventory.Product, getenv func(string) string) (reauth.Database, error) {
	if ip.Database != nil && ip.Database.From == inventory.DatabaseFromStatefulSet {
		db, _, err := methods.Database(ctx, inv, ip, getenv)
		return db, err
	}
	if ip.Database == nil {
		d, err := atlassian.Discover(atlassian.DiscoverOptions{Product: ip.ID, Home: inv.Resolve(ip.Home),
			Install: inv.Resolve(ip.Install), Getenv: getenv})
		if err != nil {
			return reauth.Database{}, err
		}
		return d.Database, nil
	}
	db, err := atlassian.ParseJDBCURL(ip.Database.JDBCURL)
	if err != nil {
		return reauth.Database{}, reauth.Usage("fix database.jdbc_url in the inventory", "%v", err)
	}
	db.User = ip.Database.User
	if !ip.Database.UserRef.IsZero() {
		user, err := ip.Database.UserRef.Resolve(getenv)
		if err != nil {
			return reauth.Database{}, reauth.Usage("set the database user_env or user_file", "%v", err)
		}
		db.User = user.Reveal()
	}
	if !ip.Database.Password.IsZero() {
		pw, err := ip.Database.Password.Resolve(getenv)
		if err != nil {
			return reauth.Database{}, reauth.Usage("set the database password_env or password_file", "%v", err)
		}
		db.Password, db.PasswordSource = pw, "inventory reference"
	}
	return db, nil
}

// backupPath is the name of a table's next backup part: the product and the time, then the part
// number from the second on, then a further table's name.
func (u *unit) backupPath(s *TableState) string {
	dir := backupDir(u.o, u.file())
	name := fmt.Sprintf("reauth-%s-%s", fileSafe.ReplaceAllString(u.name, "_"), u.o.Now().UTC().Format("20060102T150405.000Z"))
	if n := len(s.Backups); n > 0 {
		name += fmt.Sprintf("-part%d", n+1)
	}
	return tableBackupPath(filepath.Join(dir, name+".jsonl.gz"), s.Table)
}

// tableBackupPath is the backup of a further table beside the token table's path: its name
// before the extension ("" : the token table's own).
func tableBackupPath(path, table string) string {
	if table == "" {
		return path
	}
	return strings.TrimSuffix(path, ".jsonl.gz") + "-" + table + ".jsonl.gz"
}

// openTables opens a product's token table and the further ones beside it (through the seams:
// fakes in tests), the token table first. Closing the first closes them all.
func openTables(ctx context.Context, o *Options, inv *inventory.Inventory, ip *inventory.Product, prod atlassian.Product) ([]*tableRun, error) {
	st, _, err := o.seams.open(ctx, inv, ip, prod, o)
	if err != nil {
		return nil, err
	}
	further, err := openFurther(ctx, o, st, prod)
	if err != nil {
		st.Close()
		return nil, err
	}
	return append([]*tableRun{{store: st}}, further...), nil
}

// openFurther opens the further token tables the catalog gives the product (FurtherTables:
// Crowd's cwd_remember_me_token) beside its token table st, on its connection and under its lock.
// A table the database lacks is left out.
func openFurther(ctx context.Context, o *Options, st TokenStore, prod atlassian.Product) ([]*tableRun, error) {
	var out []*tableRun
	for _, table := range prod.FurtherTables() {
		c, ok, err := o.seams.further(ctx, st, table)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", table.Name, err)
		}
		if ok {
			out = append(out, &tableRun{store: c, name: c.Table().Name})
		}
	}
	return out, nil
}

// fileSafe matches what a product's name may hold that a file name should not (id@/path/b.yaml).
var fileSafe = regexp.MustCompile(`[^A-Za-z0-9@._-]+`)
