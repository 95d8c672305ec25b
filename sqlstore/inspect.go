package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"
)

// UserCount is how many tokens one user has. User is the login name when the store can map the
// stored value to one; Key is the stored value (user key or id) when it differs.
type UserCount struct {
	User  string `json:"user"`
	Key   string `json:"key,omitempty"`
	Count int64  `json:"count"`
}

// Inspection is what inspect reports. Oldest/Newest come from the time column: a creation time
// (Jira, Confluence) or, for Bitbucket, an expiry time.
type Inspection struct {
	Product string `json:"product"`
	// Table is the table's name as the database spells it (as discover's token_table, but in
	// the database's case); Schema its schema; Qualified the quoted name the SQL uses.
	Table        string     `json:"table"`
	Schema       string     `json:"schema,omitempty"`
	Qualified    string     `json:"qualified"`
	Total        int64      `json:"total"`
	Users        int64      `json:"users"`
	TimeColumn   string     `json:"time_column,omitempty"`
	TimeIsExpiry bool       `json:"time_is_expiry,omitempty"`
	Oldest       *time.Time `json:"oldest,omitempty"`
	Newest       *time.Time `json:"newest,omitempty"`
	// OldestText, NewestText: the database's spelling of a time that Oldest/Newest cannot hold
	// (PostgreSQL's infinity and -infinity, a year before 1 or after 9999); Oldest/Newest are
	// then nil.
	OldestText string      `json:"oldest_text,omitempty"`
	NewestText string      `json:"newest_text,omitempty"`
	Top        []UserCount `json:"top"`
	// Kept names the rows the counts leave out because no purge touches them ("directory_id =
	// -1": Crowd's application tokens), "" when the table has no such rule.
	Kept string `json:"kept_by_rule,omitempty"`
}

// Inspect counts the table's rows and distinct users, finds the oldest and newest time, and
// lists the top users by token count. It only reads.
func (s *Store) Inspect(ctx context.Context, top int) (Inspection, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	in := Inspection{Product: string(s.product.ID), Table: s.info.Name, Schema: s.info.Schema, Qualified: s.info.Qualified, TimeColumn: s.info.Time,
		TimeIsExpiry: s.info.TimeIsExpiry, Top: []UserCount{}, Kept: s.info.Keep}
	list := "COUNT(*), COUNT(DISTINCT " + s.qUser + ")"
	if s.qTime != "" {
		list += ", MIN(" + s.qTime + "), MAX(" + s.qTime + ")"
	}
	var total, users, oldest, newest any
	dest := []any{&total, &users}
	if s.qTime != "" {
		dest = append(dest, &oldest, &newest)
	}
	kq := &query{d: s.dialect}
	keep := s.keepOut(kq) // Crowd: users' sessions only, not the applications' tokens
	if err := s.sql.QueryRowContext(ctx, "SELECT "+list+" FROM "+s.info.Qualified+where(keep), kq.args...).Scan(dest...); err != nil {
		return in, fmt.Errorf("inspect %s: %w", s.info.Qualified, err)
	}
	var err error
	if in.Total, _, err = toInt(total); err != nil {
		return in, err
	}
	if in.Users, _, err = toInt(users); err != nil {
		return in, err
	}
	if s.qTime != "" {
		if in.Oldest, in.OldestText, err = s.timeValue(oldest); err != nil {
			return in, fmt.Errorf("inspect %s: oldest %s: %w", s.info.Qualified, s.info.Time, err)
		}
		if in.Newest, in.NewestText, err = s.timeValue(newest); err != nil {
			return in, fmt.Errorf("inspect %s: newest %s: %w", s.info.Qualified, s.info.Time, err)
		}
	}
	if top > 0 {
		q := &query{d: s.dialect}
		if in.Top, err = s.topUsers(ctx, q, s.keepOut(q), top); err != nil {
			return in, err
		}
	}
	return in, nil
}

// topUsers counts rows per stored user value under cond, most first, and maps the stored
// values to login names where the product keeps a mapping.
func (s *Store) topUsers(ctx context.Context, q *query, cond string, n int) ([]UserCount, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	text := s.dialect.SelectTop(s.qUser+", COUNT(*)", s.info.Qualified, cond, s.qUser, "COUNT(*) DESC, "+s.qUser, n)
	rows, err := s.sql.QueryContext(ctx, text, q.args...)
	if err != nil {
		return nil, fmt.Errorf("count tokens per user in %s: %w", s.info.Qualified, err)
	}
	out := []UserCount{}
	for rows.Next() {
		var u, c any
		if err := rows.Scan(&u, &c); err != nil {
			rows.Close()
			return nil, err
		}
		n, _, err := toInt(c)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, UserCount{User: asString(u), Count: n})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	s.nameUsers(ctx, out)
	return out, nil
}

// nameUsers replaces stored user keys or ids by login names (best effort: a lookup that fails
// leaves the stored value).
func (s *Store) nameUsers(ctx context.Context, list []UserCount) {
	a := s.userIDs
	if a == nil {
		a = s.userKeys
	}
	if a == nil {
		return
	}
	text := "SELECT " + a.name + " FROM " + a.qualified + " WHERE " + a.key + " = " + s.dialect.Placeholder(1)
	for i := range list {
		var key any = list[i].User
		if s.userIDs != nil {
			n, err := strconv.ParseInt(list[i].User, 10, 64)
			if err != nil {
				continue
			}
			key = n
		}
		var name sql.NullString
		if err := s.sql.QueryRowContext(ctx, text, key).Scan(&name); err != nil || !name.Valid {
			continue
		}
		if name.String != list[i].User {
			list[i].Key, list[i].User = list[i].User, name.String
		}
	}
}

func asString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []byte:
		return string(x)
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return fmt.Sprint(v)
}
