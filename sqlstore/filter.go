package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

// query collects bind parameters while SQL text is built, numbering placeholders in order.
type query struct {
	d    Dialect
	args []any
}

func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return q.d.Placeholder(len(q.args))
}

func (q *query) list(vals []string) string {
	ph := make([]string, len(vals))
	for i, v := range vals {
		ph[i] = q.arg(v)
	}
	return strings.Join(ph, ", ")
}

// lowerAll is names as a set: trimmed, lower-cased, empty ones and duplicates dropped, in their
// first order. A map, not a scan of the list so far: exclude lists run to tens of thousands.
func lowerAll(names []string) []string {
	out := make([]string, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if n = strings.ToLower(strings.TrimSpace(n)); n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// userMatch is a condition true for rows owned by one of names (login names, matched
// case-insensitively), following the product's user key or id mapping. It is never NULL for a
// non-NULL user column, so NOT (…) is safe.
func (s *Store) userMatch(q *query, names []string) string {
	switch {
	case s.userIDs != nil:
		a := s.userIDs
		return s.qUser + " IN (SELECT " + a.key + " FROM " + a.qualified + " WHERE " + q.in("LOWER("+a.name+")", names) +
			" AND " + a.key + " IS NOT NULL)"
	case s.userKeys != nil:
		a := s.userKeys
		return "(" + q.in("LOWER("+s.qUser+")", names) + " OR " + s.qUser + " IN (SELECT " + a.key + " FROM " +
			a.qualified + " WHERE " + q.in("LOWER("+a.name+")", names) + " AND " + a.key + " IS NOT NULL))"
	}
	return q.in("LOWER("+s.qUser+")", names)
}

// checkFilters refuses filters the table cannot answer, before anything is read or written.
func (s *Store) checkFilters(o PurgeOptions) error {
	if (len(o.Users) > 0 || len(o.ExcludeUsers) > 0) && s.product.Table.UserIDTable != "" && s.userIDs == nil {
		t := s.product.Table
		return reauth.Refused("purge without --user/--exclude-user, or check that this is the product's full database",
			"%s stores a numeric user id in %s, and the table %s that maps ids to login names was not found: cannot match --user/--exclude-user",
			s.product.Name, s.info.User, t.UserIDTable)
	}
	if o.Before != nil && s.info.Time == "" {
		return reauth.Refused("purge without --before", "table %s has no time column: --before cannot be applied", s.info.Qualified)
	}
	return nil
}

// keepOut is the condition true for rows that are not kept by the table's rule (Crowd: not an
// application token), "" when the table has no rule. A NULL in the rule's column is kept too:
// when in doubt, a row is left alone.
func (s *Store) keepOut(q *query) string {
	if s.qKeep == "" {
		return ""
	}
	return s.qKeep + " <> " + q.arg(s.keep.Equals)
}

// filterSQL is the scope of a purge (without the id range): the table's keep rule, --before,
// --user, --exclude-user.
func (s *Store) filterSQL(q *query, o PurgeOptions) string {
	var conds []string
	if k := s.keepOut(q); k != "" {
		conds = append(conds, k)
	}
	if o.Before != nil && s.info.Time != "" {
		var v any = o.Before.UTC()
		if s.info.TimeKind == atlassian.TimeEpochMS {
			v = o.Before.UnixMilli()
		}
		conds = append(conds, s.qTime+" < "+q.arg(v))
	}
	if o.usersTable != "" {
		conds = append(conds, s.tableMatch(o.usersTable))
	} else if u := lowerAll(o.Users); len(u) > 0 {
		conds = append(conds, s.userMatch(q, u))
	}
	if o.excludeTable != "" {
		conds = append(conds, "("+s.qUser+" IS NULL OR NOT "+s.tableMatch(o.excludeTable)+")")
	} else if u := lowerAll(o.ExcludeUsers); len(u) > 0 {
		conds = append(conds, "("+s.qUser+" IS NULL OR NOT "+s.userMatch(q, u)+")")
	}
	return strings.Join(conds, " AND ")
}

// countUsers counts the distinct stored user values of the rows under cond (NULL counts as one).
func (s *Store) countUsers(ctx context.Context, cond string, args []any) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var v any
	text := "SELECT COUNT(*) FROM (SELECT " + s.qUser + " FROM " + s.info.Qualified + where(cond) + " GROUP BY " + s.qUser + ") u"
	if err := s.sql.QueryRowContext(ctx, text, args...).Scan(&v); err != nil {
		return 0, fmt.Errorf("count the users of %s: %w", s.info.Qualified, err)
	}
	n, _, err := toInt(v)
	return n, err
}

func and(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " AND " + b
}

// timeValue turns a time column's aggregate into a time (epoch ms for Confluence), or, for a
// value JSON's time cannot hold (an infinity, a year outside 0…9999), into text (the database's
// infinity, or the time with "BC" for years before 1).
func (s *Store) timeValue(v any) (*time.Time, string, error) {
	if s.info.TimeKind == atlassian.TimeEpochMS {
		ms, ok, err := toInt(v)
		if err != nil || !ok {
			return nil, "", err
		}
		t := time.UnixMilli(ms).UTC()
		return &t, "", nil
	}
	x, err := timeOf(v)
	t, ok := x.(time.Time)
	switch {
	case err != nil || x == nil:
		return nil, "", err
	case !ok:
		return nil, x.(string), nil
	case t.Year() < 1:
		// Astronomical year 0 is 1 BC.
		return nil, time.Date(1-t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location()).
			UTC().Format(time.RFC3339) + " BC", nil
	case t.Year() > 9999:
		return nil, t.UTC().Format(time.RFC3339), nil
	}
	return &t, "", nil
}
