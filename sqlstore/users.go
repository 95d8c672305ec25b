package sqlstore

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// UserSource names the product's user directory table for SessionUsersFrom. Jira keeps its users
// in cwd_user (active = 1); Bamboo's embedded Crowd directory is believed to use the same table,
// with active possibly 'T'/'F' (UNCONFIRMED): the table and columns are resolved at run time,
// case-insensitively, and every field can be overridden. Zero values mean the defaults.
type UserSource struct {
	Table        string // default "cwd_user"
	NameColumn   string // default: lower_user_name, else user_name
	ActiveColumn string // default "active"; a table without it counts every row as active
}

// UserList is who can hold a session, and where the names came from (for the plan).
type UserList struct {
	Users []string `json:"users"`
	// Sources says which tables were read, e.g. "remembermetoken (token holders)", "cwd_user (active)".
	Sources  []string `json:"sources"`
	Excluded []string `json:"excluded,omitempty"`
}

// SessionUsers lists every user who can have a session: the active users of the product's user
// directory, plus every user holding a remember-me token, minus exclude (case-insensitive). Names
// are login names (Jira user keys and Bitbucket ids are mapped), de-duplicated case-insensitively
// and sorted. Where the database has no directory table (the sandbox), the product's own user
// table (Jira app_user, Bitbucket stash_user) stands in for it.
func (s *Store) SessionUsers(ctx context.Context, exclude []string) ([]string, error) {
	l, err := s.SessionUsersFrom(ctx, UserSource{}, exclude)
	return l.Users, err
}

// SessionUsersFrom is SessionUsers with an explicit directory table.
func (s *Store) SessionUsersFrom(ctx context.Context, src UserSource, exclude []string) (UserList, error) {
	var out UserList
	seen := map[string]bool{}
	for _, e := range lowerAll(exclude) {
		seen[e] = true
		out.Excluded = append(out.Excluded, e)
	}
	add := func(name string) {
		if k := strings.ToLower(strings.TrimSpace(name)); k != "" && !seen[k] {
			seen[k] = true
			out.Users = append(out.Users, strings.TrimSpace(name))
		}
	}
	holders, err := s.tokenHolders(ctx)
	if err != nil {
		return out, err
	}
	for _, n := range holders {
		add(n)
	}
	out.Sources = append(out.Sources, s.info.Name+" (token holders)")
	dir, desc, err := s.directoryUsers(ctx, src)
	if err != nil {
		return out, err
	}
	for _, n := range dir {
		add(n)
	}
	if desc != "" {
		out.Sources = append(out.Sources, desc)
	}
	sort.Slice(out.Users, func(i, j int) bool { return strings.ToLower(out.Users[i]) < strings.ToLower(out.Users[j]) })
	if out.Users == nil {
		out.Users = []string{}
	}
	return out, nil
}

// tokenHolders lists the login names of everyone with a token row (rows the keep rule names,
// Crowd's application tokens, hold an application's name, not a user's: left out).
func (s *Store) tokenHolders(ctx context.Context) ([]string, error) {
	var q string
	qa := &query{d: s.dialect}
	keep := s.keepOut(qa)
	switch {
	case s.userIDs != nil: // Bitbucket: user_id -> stash_user.name
		a := s.userIDs
		q = "SELECT DISTINCT a." + a.name + " FROM " + s.info.Qualified + " t JOIN " + a.qualified + " a ON a." + a.key + " = t." + s.qUser
	case s.userKeys != nil: // Jira: a user key or a (legacy) lower-case name -> app_user.lower_user_name
		a := s.userKeys
		q = "SELECT DISTINCT t." + s.qUser + ", a." + a.name + " FROM " + s.info.Qualified + " t LEFT JOIN " + a.qualified + " a ON a." + a.key + " = t." + s.qUser
	default:
		q = "SELECT DISTINCT " + s.qUser + " FROM " + s.info.Qualified + " t"
	}
	if keep != "" {
		q += " WHERE t." + keep
	}
	return s.names(ctx, q, qa.args, func(vals []any) string {
		if len(vals) == 2 && asString(vals[1]) != "" {
			return asString(vals[1])
		}
		return asString(vals[0])
	})
}

// directoryUsers lists the active users of the directory table, or of the product's user table
// when there is no directory table; desc says which (empty when neither exists).
func (s *Store) directoryUsers(ctx context.Context, src UserSource) ([]string, string, error) {
	explicit := src.Table != ""
	if src.Table == "" {
		src.Table = "cwd_user"
	}
	if src.ActiveColumn == "" {
		src.ActiveColumn = "active"
	}
	tables, schema, err := s.listTables(ctx, s.info.Schema)
	if err != nil {
		return nil, "", err
	}
	var table string
	for _, t := range tables {
		if strings.EqualFold(t, src.Table) {
			table = t
			break
		}
	}
	if table == "" {
		if explicit {
			return nil, "", fmt.Errorf("user table %q not found in schema %q", src.Table, schema)
		}
		return s.productUsers(ctx)
	}
	cols, err := s.listColumns(ctx, schema, table)
	if err != nil {
		return nil, "", err
	}
	find := func(want string) string {
		for _, c := range cols {
			if strings.EqualFold(c.Name, want) {
				return c.Name
			}
		}
		return ""
	}
	var name string
	if src.NameColumn != "" {
		name = find(src.NameColumn)
	} else if name = find("lower_user_name"); name == "" {
		name = find("user_name")
	}
	if name == "" {
		return nil, "", fmt.Errorf("user table %s.%s has no user name column (looked for %s)", schema, table,
			strings.Join(nonEmpty(src.NameColumn, "lower_user_name, user_name"), ""))
	}
	q := s.dialect.Quote
	active := find(src.ActiveColumn)
	list := q(name)
	desc := table + " (every row: no " + src.ActiveColumn + " column)"
	if active != "" {
		list += ", " + q(active)
		desc = table + " (active)"
	}
	users, err := s.names(ctx, "SELECT "+list+" FROM "+s.dialect.Qualify(schema, table), nil, func(vals []any) string {
		if len(vals) == 2 && !isActive(vals[1]) {
			return ""
		}
		return asString(vals[0])
	})
	return users, desc, err
}

// productUsers reads the product's own user table (Jira app_user, Bitbucket stash_user).
func (s *Store) productUsers(ctx context.Context) ([]string, string, error) {
	a, t := s.userKeys, s.product.Table.UserKeyTable
	if a == nil {
		a, t = s.userIDs, s.product.Table.UserIDTable
	}
	if a == nil {
		return nil, "", nil
	}
	users, err := s.names(ctx, "SELECT "+a.name+" FROM "+a.qualified, nil, func(vals []any) string { return asString(vals[0]) })
	return users, t + " (no cwd_user table: every user)", err
}

// names runs q and turns each row into a name with pick ("" rows are skipped).
func (s *Store) names(ctx context.Context, q string, args []any, pick func([]any) string) ([]string, error) {
	rows, err := s.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var out []string
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		if n := pick(vals); n != "" {
			out = append(out, n)
		}
	}
	return out, rows.Err()
}

// isActive reads an "active" flag in whichever way the engine and product store it: Jira's
// integer 1, a boolean, or Crowd/Hibernate's 'T'/'Y'.
func isActive(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	}
	switch strings.ToLower(strings.TrimSpace(asString(v))) {
	case "1", "t", "true", "y", "yes", "1.0":
		return true
	}
	return false
}

func nonEmpty(a, b string) []string {
	if a != "" {
		return []string{a}
	}
	return []string{b}
}
