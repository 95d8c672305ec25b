// Package sqlstore is reauth's token store: it finds a product's remember-me token table in a
// real database (PostgreSQL, MySQL/MariaDB, SQL Server, Oracle, and SQLite for the sandbox),
// counts its rows, and backs up + deletes them in small verified batches, or restores them from
// a backup. Engine differences live in Dialect values that build SQL text; the logic here is
// written once.
package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/go-sql-driver/mysql"  // driver "mysql"
	_ "github.com/jackc/pgx/v5/stdlib"  // driver "pgx"
	_ "github.com/microsoft/go-mssqldb" // driver "sqlserver"
	_ "github.com/sijms/go-ora/v2"      // driver "oracle"
	_ "modernc.org/sqlite"              // driver "sqlite"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/backup"
)

// Options tune Open.
type Options struct {
	// Table is the operator's table name: it overrides the catalog's (UNCONFIRMED names) and is
	// required to confirm Fisheye's table, which is found by name at run time.
	Table string
	// Keep overrides the catalog's rule for rows that are never a browser's session (the
	// inventory's app_token_rule: Crowd's application tokens); zero: the catalog's.
	Keep   atlassian.RowRule
	Logger *slog.Logger
	// ConnectTimeout bounds each new connection (0: DefaultConnectTimeout).
	ConnectTimeout time.Duration
}

// TableInfo is the resolved token table.
type TableInfo struct {
	Schema    string          // real spelling
	Name      string          // real spelling
	Qualified string          // schema-qualified and quoted by the dialect
	Columns   []backup.Column // every column, in table order, with real names and SQL types
	ID        string          // real name of the id column
	User      string          // real name of the user column
	Time      string          // real name of the time column ("" when none)
	TimeKind  atlassian.TimeKind
	// TimeIsExpiry: Time is an expiry (Bitbucket), not a creation time.
	TimeIsExpiry bool
	// UserMap says how login names map to the User column ("" when it holds login names).
	UserMap string
	// Keep is the rule for rows every purge, count and list leaves alone ("" when none), e.g.
	// "directory_id = -1" (Crowd's application tokens).
	Keep string
}

// auxTable is a resolved helper table (Jira app_user, Bitbucket stash_user).
type auxTable struct {
	qualified, key, name string // quoted
}

// Store is one product's token table in one database.
type Store struct {
	sql     *sql.DB
	db      reauth.Database
	dialect Dialect
	product atlassian.Product
	log     *slog.Logger
	info    TableInfo
	// quoted identifiers, built once
	qID, qUser, qTime, qCols string
	keep                     atlassian.RowRule                 // rows never touched (zero: none)
	qKeep                    string                            // keep.Column, resolved and quoted
	userKeys                 *auxTable                         // Jira: app_user (lower_user_name -> user_key)
	userIDs                  *auxTable                         // Bitbucket: stash_user (id -> name)
	afterSync                func()                            // test hook: a batch's rows are durable, its delete not yet run
	noReturning              bool                              // test hook: use SELECT … FOR UPDATE + DELETE even where RETURNING exists
	beforeSync               func() error                      // test hook: run by the backup writer before each fsync; an error fails that fsync
	noPGText                 bool                              // test hook: read batches through database/sql on PostgreSQL too
	noNameTables             bool                              // test hook: keep long user lists inline in every batch
	restFor                  func(time.Duration) time.Duration // test hook: sees (and may change) each rest after a batch
	pgTextBatches            atomic.Int64                      // batches the PostgreSQL text path ran (tests check it was used)
	lockMu                   sync.Mutex
	lock                     *runLock                               // the run lock this store holds (nil when none)
	lockEvery                time.Duration                          // test hook: the lock's keep-alive period (default lockKeepAlive)
	lockSession              func(context.Context, *sql.Conn) error // test hook: run on the lock's session first (a DBA's settings)
	// parent is the store a companion table was opened from: its connection and run lock.
	parent *Store
}

// Companion opens the product's second token table (Crowd's cwd_remember_me_token) in the same
// schema, on the same connection and under the same run lock: its purge checks that lock before
// every batch. ok is false (and no error) when the product has none or the database lacks it
// (Crowd before 3.4 had no remember-me); a table lacking a required column is refused.
func (s *Store) Companion(ctx context.Context) (c *Store, ok bool, err error) {
	return s.Beside(ctx, s.product.Companion)
}

// Beside opens the further token table t of the product (one of its FurtherTables) as Companion
// does: same schema, connection and run lock; ok false when t has no name or the database lacks it.
func (s *Store) Beside(ctx context.Context, t atlassian.TokenTable) (c *Store, ok bool, err error) {
	if t.Name == "" {
		return nil, false, nil
	}
	tables, _, err := s.listTables(ctx, s.info.Schema)
	if err != nil {
		return nil, false, err
	}
	found := false
	for _, n := range tables {
		found = found || strings.EqualFold(n, t.Name)
	}
	if !found {
		return nil, false, nil
	}
	p := s.product
	p.Table, p.Companion = t, atlassian.TokenTable{}
	c = &Store{sql: s.sql, db: s.db, dialect: s.dialect, product: p, log: s.log, parent: s}
	db := c.db
	db.Schema = s.info.Schema
	c.db = db
	if err := c.resolve(ctx, ""); err != nil {
		return nil, false, err
	}
	return c, true, nil
}

// Open connects to db and resolves p's token table. It refuses (exit 4) when the table is missing
// or lacks a required column, naming what it found and what to do.
func Open(ctx context.Context, db reauth.Database, p atlassian.Product, opts Options) (*Store, error) {
	d, err := DialectFor(db.Engine)
	if err != nil {
		return nil, err
	}
	timeout := opts.ConnectTimeout
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h, err := openDB(db, timeout)
	if err != nil {
		if reauth.CodeOf(err) != reauth.ExitFailed {
			return nil, err
		}
		return nil, fmt.Errorf("connect to %s: %s", db.String(), redact(err.Error(), db))
	}
	s := &Store{sql: h, db: db, dialect: d, product: p, log: log}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := h.PingContext(cctx); err != nil {
		h.Close()
		return nil, connectError(ctx, cctx, db, timeout, err)
	}
	// The catalog reads below get their own bound (at least the default's): a short
	// --connect-timeout is about reaching the server, not about its answers.
	cctx, cancel = context.WithTimeout(ctx, max(timeout, DefaultConnectTimeout))
	defer cancel()
	if refine := d.caps().refine; refine != nil {
		s.dialect = refine(cctx, h)
	}
	s.keep = p.Table.Keep
	if !opts.Keep.IsZero() {
		s.keep = opts.Keep
	}
	if err := s.resolve(cctx, opts.Table); err != nil {
		h.Close()
		return nil, err
	}
	return s, nil
}

// detectMariaDB turns on DELETE … RETURNING when the server is MariaDB 10.5 or later (JDBC URLs
// often say mysql for a MariaDB server, and MySQL has no RETURNING).
func detectMariaDB(ctx context.Context, h *sql.DB, d MySQL) MySQL {
	var v string
	if err := h.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v); err != nil || !strings.Contains(v, "MariaDB") {
		return d
	}
	d.MariaDB = true
	var major, minor int
	if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err == nil && (major > 10 || (major == 10 && minor >= 5)) {
		d.Returning = true
	}
	return d
}

// Close closes the database handle (a companion's is its parent's: closed with it).
func (s *Store) Close() error {
	if s.parent != nil {
		return nil
	}
	s.lockMu.Lock()
	l := s.lock
	s.lockMu.Unlock()
	if l != nil {
		_ = s.unlock(l) // a run lock still held goes with the store
	}
	return s.sql.Close()
}

// Table is the resolved token table.
func (s *Store) Table() TableInfo { return s.info }

// Dialect is the store's SQL dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

func (s *Store) resolve(ctx context.Context, override string) error {
	schema := s.db.Schema
	if schema == "" {
		var cur sql.NullString
		if err := s.sql.QueryRowContext(ctx, s.dialect.CurrentSchemaSQL()).Scan(&cur); err != nil {
			return fmt.Errorf("read the current schema of %s: %w", s.db.String(), err)
		}
		schema = cur.String
	}
	// PostgreSQL's currentSchema may be a search path ("jira,public"): the tables live in the first.
	if i := strings.IndexByte(schema, ','); i >= 0 {
		schema = strings.TrimSpace(schema[:i])
	}
	tables, schema, err := s.listTables(ctx, schema)
	if err != nil {
		return err
	}
	t := s.product.Table
	name, err := pickTable(s.product, tables, schema, override)
	if err != nil {
		return err
	}
	cols, err := s.listColumns(ctx, schema, name)
	if err != nil {
		return err
	}
	find := func(want string) string {
		for _, c := range cols {
			if strings.EqualFold(c.Name, want) {
				return c.Name
			}
		}
		return ""
	}
	var missing []string
	for _, r := range append(append([]string{}, t.Required...), t.ID, t.User) {
		if find(r) == "" && !contains(missing, r) {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return reauth.Refused(fmt.Sprintf("check that this is %s's database and --product is right; if %s really uses another table, name it with --table",
			s.product.Name, s.product.Name),
			"table %s.%s lacks column(s) %s that %s uses (found: %s)", schema, name, strings.Join(missing, ", "),
			s.product.Name, strings.Join(colNames(cols), ", "))
	}
	info := TableInfo{Schema: schema, Name: name, Qualified: s.dialect.Qualify(schema, name), Columns: cols,
		ID: find(t.ID), User: find(t.User), TimeKind: t.TimeKind, TimeIsExpiry: t.TimeIsExpiry}
	if t.Time != "" {
		info.Time = find(t.Time)
	}
	for _, c := range cols {
		if c.Name == info.ID && c.Kind != backup.KindInt {
			return reauth.Refused("name the right table with --table", "the id column %s of %s is %s, not an integer: this is not a token table reauth knows",
				c.Name, info.Qualified, c.SQLType)
		}
	}
	if !s.keep.IsZero() {
		// The rule must be answerable: without its column reauth cannot tell the rows to keep
		// from the rest, and deleting them all is the one thing it must not do.
		col := find(s.keep.Column)
		if col == "" {
			return reauth.Refused("set app_token_rule in the inventory to the column and value that mark "+s.product.Name+"'s application tokens",
				"table %s.%s has no column %s, which tells %s's application tokens (kept) from users' sessions (found: %s)",
				schema, name, s.keep.Column, s.product.Name, strings.Join(colNames(cols), ", "))
		}
		info.Keep = col + " = " + strconv.FormatInt(s.keep.Equals, 10)
	}
	s.useTable(info)
	if t.UserKeyTable != "" {
		s.userKeys = s.aux(ctx, tables, schema, t.UserKeyTable, t.UserKeyKeyColumn, t.UserKeyNameColumn)
		if s.userKeys != nil {
			s.info.UserMap = "login name or user key (" + t.UserKeyTable + "." + t.UserKeyNameColumn + " → " + t.UserKeyKeyColumn + ")"
		}
	}
	if t.UserIDTable != "" {
		s.userIDs = s.aux(ctx, tables, schema, t.UserIDTable, t.UserIDKeyColumn, t.UserIDNameColumn)
		s.info.UserMap = "user id (" + t.UserIDTable + "." + t.UserIDKeyColumn + " → " + t.UserIDNameColumn + ")"
	}
	s.log.Info("token table", "table", info.Qualified, "columns", strings.Join(colNames(cols), ","))
	return nil
}

// useTable sets the resolved table and quotes its identifiers once.
func (s *Store) useTable(info TableInfo) {
	s.info = info
	q := s.dialect.Quote
	s.qID, s.qUser, s.qTime, s.qKeep = q(info.ID), q(info.User), "", ""
	if info.Keep != "" {
		col, _, _ := strings.Cut(info.Keep, " = ")
		s.qKeep = q(col)
	}
	if info.Time != "" {
		s.qTime = q(info.Time)
	}
	quoted := make([]string, len(info.Columns))
	for i, c := range info.Columns {
		quoted[i] = q(c.Name)
	}
	s.qCols = strings.Join(quoted, ", ")
}

// listTables lists the schema's tables. Oracle folds unquoted names to upper case and
// PostgreSQL to lower case, while configs spell the schema either way: try both when the
// given spelling has no tables.
func (s *Store) listTables(ctx context.Context, schema string) ([]string, string, error) {
	var tables []string
	for _, cand := range []string{schema, strings.ToUpper(schema), strings.ToLower(schema)} {
		q, args := s.dialect.TablesSQL(cand)
		rows, err := s.sql.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, "", fmt.Errorf("list the tables of schema %s: %w", schema, err)
		}
		tables = tables[:0]
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return nil, "", err
			}
			tables = append(tables, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, "", err
		}
		if len(tables) > 0 {
			sort.Strings(tables)
			return tables, cand, nil
		}
	}
	return nil, schema, nil
}

func pickTable(p atlassian.Product, tables []string, schema, override string) (string, error) {
	match := func(want string) (string, error) {
		var found []string
		for _, t := range tables {
			if t == want {
				return t, nil
			}
			if strings.EqualFold(t, want) {
				found = append(found, t)
			}
		}
		switch len(found) {
		case 1:
			return found[0], nil
		case 0:
			return "", reauth.Refused(fmt.Sprintf("check --product, the schema (Jira <schema-name>, PostgreSQL currentSchema) and the database; "+
				"or name the table with --table if %s uses another one", p.Name),
				"token table %q not found in schema %q (%d tables there%s)", want, schema, len(tables), sample(tables))
		}
		return "", reauth.Refused("name the exact spelling with --table", "several tables are spelled like %q in schema %q: %s",
			want, schema, strings.Join(found, ", "))
	}
	if p.Table.Name == "" {
		var cands []string
		for _, t := range tables {
			if strings.Contains(strings.ToLower(t), strings.ToLower(p.Table.NameContains)) {
				cands = append(cands, t)
			}
		}
		if override != "" {
			return match(override)
		}
		if len(cands) == 1 {
			return "", reauth.Refused("confirm it with --table "+cands[0],
				"%s's token table is not documented; the one table whose name contains %q is %s", p.Name, p.Table.NameContains, cands[0])
		}
		return "", reauth.Refused("name the token table with --table",
			"%s's token table is not documented, and %d tables in schema %q have %q in their name: %s",
			p.Name, len(cands), schema, p.Table.NameContains, strings.Join(cands, ", "))
	}
	if override != "" {
		return match(override)
	}
	return match(p.Table.Name)
}

func sample(tables []string) string {
	if len(tables) == 0 {
		return ""
	}
	if len(tables) > 8 {
		return ", e.g. " + strings.Join(tables[:8], ", ") + ", …"
	}
	return ": " + strings.Join(tables, ", ")
}

func (s *Store) listColumns(ctx context.Context, schema, table string) ([]backup.Column, error) {
	q, args := s.dialect.ColumnsSQL(schema, table)
	rows, err := s.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list the columns of %s.%s: %w", schema, table, err)
	}
	defer rows.Close()
	var cols []backup.Column
	for rows.Next() {
		var name, typ string
		var scale sql.NullInt64
		if err := rows.Scan(&name, &typ, &scale); err != nil {
			return nil, fmt.Errorf("list the columns of %s.%s: %w", schema, table, err)
		}
		cols = append(cols, backup.Column{Name: name, SQLType: typ, Kind: kindOf(typ, scale.Int64)})
	}
	return cols, rows.Err()
}

// aux resolves a helper table and two of its columns; nil when absent (logged, not fatal: the
// store then matches user names against the token table's own column only).
func (s *Store) aux(ctx context.Context, tables []string, schema, table, key, name string) *auxTable {
	var real string
	for _, t := range tables {
		if strings.EqualFold(t, table) {
			real = t
			break
		}
	}
	if real == "" {
		s.log.Info("user table not found: user names match the token table's column only", "table", table)
		return nil
	}
	cols, err := s.listColumns(ctx, schema, real)
	if err != nil {
		return nil
	}
	var k, n string
	for _, c := range cols {
		if strings.EqualFold(c.Name, key) {
			k = c.Name
		}
		if strings.EqualFold(c.Name, name) {
			n = c.Name
		}
	}
	if k == "" || n == "" {
		return nil
	}
	q := s.dialect.Quote
	return &auxTable{qualified: s.dialect.Qualify(schema, real), key: q(k), name: q(n)}
}

func colNames(cols []backup.Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
