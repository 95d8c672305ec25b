package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// A long --user or --exclude-user list (an exclude list of every service account and every
// departed employee runs to tens of thousands of names) is not sent with every batch: each purge
// connection gets the list once, in a temporary table of its own, and the batches look names up
// in its primary key. Sent inline, the list was parsed, planned and (through the user-key
// subquery) matched again by every batch, inside the batch's transaction: about 10 s per batch
// on MariaDB with 70,000 names, and tens of milliseconds of lock time on PostgreSQL.
//
// The table holds what the stored user column may hold for a listed user, resolved once when it
// is filled: the lower-cased names, plus (Jira) the lower-cased user keys of those names, or
// (Bitbucket) their numeric ids as text. A batch's condition is then one correlated EXISTS on the
// token table's own user column, with no user-table subquery left in it. Plan, the counts and
// verify keep the inline list: they run once, not once per batch.

// nameTabler is a dialect whose purge connections can hold a name list in a temporary table.
type nameTabler interface {
	// nameTable is the temporary table's name as written in queries, for a base name.
	nameTable(base string) string
	// createNameTable creates it empty: one column v, its primary key.
	createNameTable(table string) string
	// fillNameTable inserts vals (already distinct); the statements and their arguments.
	fillNameTable(table string, vals []string) (stmts []string, args [][]any)
	// afterFill runs once the table is filled ("" for nothing).
	afterFill(table string) string
	// textOf is expr as text, for a numeric user column compared with the table's text.
	textOf(expr string) string
	// dropNameTable is the statement prefix that drops one of them ("… IF EXISTS ").
	dropNameTable() string
}

const (
	usersTable   = "reauth_users"
	excludeTable = "reauth_exclude"
)

// PostgreSQL: a temporary table in pg_temp (never a real table of the same name), analysed so
// that the planner knows its size (autovacuum never sees temporary tables).
func (Postgres) nameTable(base string) string { return "pg_temp." + base }
func (Postgres) createNameTable(t string) string {
	return "CREATE TEMPORARY TABLE " + strings.TrimPrefix(t, "pg_temp.") + " (v text PRIMARY KEY)"
}
func (d Postgres) fillNameTable(t string, vals []string) ([]string, [][]any) {
	return []string{"INSERT INTO " + t + " SELECT DISTINCT unnest(CAST($1 AS text[]))"}, [][]any{{d.nameSetArg(vals)}}
}
func (Postgres) afterFill(t string) string { return "ANALYZE " + t }
func (Postgres) textOf(expr string) string { return "CAST(" + expr + " AS text)" }
func (Postgres) dropNameTable() string     { return "DROP TABLE IF EXISTS " } // pg_temp.name: only the temporary one

// MariaDB (10.2+ may name one temporary table several times in a query; MySQL may not, and
// keeps the inline list). INSERT IGNORE: two names equal under the column's collation are one.
func (d MySQL) nameTable(base string) string { return d.Quote(base) }
func (MySQL) createNameTable(t string) string {
	return "CREATE TEMPORARY TABLE " + t + " (v VARCHAR(768) NOT NULL PRIMARY KEY)"
}
func (MySQL) fillNameTable(t string, vals []string) ([]string, [][]any) {
	const chunk = 1000
	var stmts []string
	var args [][]any
	for start := 0; start < len(vals); start += chunk {
		part := vals[start:min(start+chunk, len(vals))]
		a := make([]any, len(part))
		for i, v := range part {
			a[i] = v
		}
		stmts = append(stmts, "INSERT IGNORE INTO "+t+" (v) VALUES "+strings.TrimSuffix(strings.Repeat("(?),", len(part)), ","))
		args = append(args, a)
	}
	return stmts, args
}
func (MySQL) afterFill(string) string   { return "" }
func (MySQL) textOf(expr string) string { return "CAST(" + expr + " AS CHAR)" }
func (MySQL) dropNameTable() string     { return "DROP TEMPORARY TABLE IF EXISTS " }

// nameTables is the dialect's temporary name tables for a purge, or nil (the inline list).
func (s *Store) nameTables() nameTabler { return s.dialect.caps().names }

// userTables fills, on every purge connection, a temporary table for each name list longer than
// inlineNames, and returns o with the batches' conditions pointing at them. Anything refused
// (no right to create temporary tables, a name the column cannot hold, a collation the user
// column does not compare with) leaves o as it was: the inline list still works, only slower.
// drop removes the tables (the connections are returned to the pool afterwards).
func (s *Store) userTables(ctx context.Context, conns []*sql.Conn, o PurgeOptions) (PurgeOptions, func()) {
	nt := s.nameTables()
	users, exclude := lowerAll(o.Users), lowerAll(o.ExcludeUsers)
	if nt == nil || s.noNameTables || (len(users) <= inlineNames && len(exclude) <= inlineNames) {
		return o, func() {}
	}
	var made []string
	dropSQL := nt.dropNameTable()
	drop := func() {
		for _, c := range conns {
			for _, t := range made {
				_, _ = c.ExecContext(context.WithoutCancel(ctx), dropSQL+t)
			}
		}
	}
	out := o
	for _, l := range []struct {
		names []string
		base  string
		set   *string
	}{{users, usersTable, &out.usersTable}, {exclude, excludeTable, &out.excludeTable}} {
		if len(l.names) <= inlineNames {
			continue
		}
		vals, err := s.tableValues(ctx, l.names)
		if err == nil {
			t := nt.nameTable(l.base)
			made = append(made, t)
			err = fillNameTables(ctx, nt, conns, t, vals)
			*l.set = t
		}
		if err != nil {
			drop()
			s.log.Warn("long user list kept inline (slower batches): its temporary table was refused", "err", err)
			return o, func() {}
		}
	}
	// The batches' condition must compile against the user column (its type and collation):
	// EXPLAIN checks that without running it.
	q := &query{d: s.dialect}
	text := "EXPLAIN SELECT " + s.qID + " FROM " + s.info.Qualified + where(s.scope(q, 0, out))
	if rows, err := conns[0].QueryContext(ctx, text, q.args...); err != nil {
		drop()
		s.log.Warn("long user list kept inline (slower batches): the user column does not compare with its temporary table", "err", err)
		return o, func() {}
	} else {
		rows.Close()
	}
	s.log.Debug("long user lists in temporary tables", "users", len(users), "excluded", len(exclude), "connections", len(conns))
	return out, drop
}

func fillNameTables(ctx context.Context, nt nameTabler, conns []*sql.Conn, t string, vals []string) error {
	for _, c := range conns {
		if _, err := c.ExecContext(ctx, nt.createNameTable(t)); err != nil {
			return fmt.Errorf("create %s: %w", t, err)
		}
		stmts, args := nt.fillNameTable(t, vals)
		for i, st := range stmts {
			if _, err := c.ExecContext(ctx, st, args[i]...); err != nil {
				return fmt.Errorf("fill %s: %w", t, err)
			}
		}
		if a := nt.afterFill(t); a != "" {
			if _, err := c.ExecContext(ctx, a); err != nil {
				return fmt.Errorf("%s: %w", a, err)
			}
		}
	}
	return nil
}

// tableValues is what the token table's user column holds for names (lower-cased), as
// userMatch resolves them: the names and their Jira user keys, or their Bitbucket ids.
func (s *Store) tableValues(ctx context.Context, names []string) ([]string, error) {
	keys, err := s.storedUserValues(ctx, names)
	if err != nil {
		return nil, err
	}
	var vals []string
	if s.userIDs == nil {
		vals = append(vals, names...)
	}
	for k := range keys {
		vals = append(vals, k)
	}
	return lowerAll(vals), nil
}

// tableMatch is userMatch against a filled name table: one primary-key lookup per row.
func (s *Store) tableMatch(table string) string {
	expr := "LOWER(" + s.qUser + ")"
	if s.userIDs != nil {
		expr = s.nameTables().textOf(s.qUser)
	}
	return "EXISTS (SELECT 1 FROM " + table + " n WHERE n.v = " + expr + ")"
}
