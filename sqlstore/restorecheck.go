package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/backup"
)

// rowChecker returns a check that a backup row is one the purge described by m could have
// deleted: its id at most the cut-off, its time before --before, its user among --user and not
// among --exclude-user (following the product's user key or id mapping, as the purge did). A row
// that fails was added to the file after the purge: restoring it would plant a login token.
func (s *Store) rowChecker(ctx context.Context, m backup.Manifest, colIdx map[int]int) (func(n int64, vals []any) error, error) {
	idIdx, userIdx, timeIdx := colIdx[-1], -1, -1
	for i, c := range m.Columns {
		if strings.EqualFold(c.Name, s.info.User) {
			userIdx = i
		}
		if s.info.Time != "" && strings.EqualFold(c.Name, s.info.Time) {
			timeIdx = i
		}
	}
	users, excl := lowerAll(m.Filters.Users), lowerAll(m.Filters.ExcludeUsers)
	if (len(users) > 0 || len(excl) > 0) && userIdx < 0 {
		return nil, reauth.Refused("restore it into the table it was taken from", "the backup's filters name users, and it has no user column %s", s.info.User)
	}
	if m.Filters.Before != nil && timeIdx < 0 {
		return nil, reauth.Refused("restore it into the table it was taken from", "the backup's filters name a time, and it has no time column")
	}
	userKeys, err := s.storedUserValues(ctx, users)
	if err != nil {
		return nil, err
	}
	exclKeys, err := s.storedUserValues(ctx, excl)
	if err != nil {
		return nil, err
	}
	forged := func(n int64, format string, args ...any) error {
		return reauth.Refused("do not restore this file: someone who could write it added rows (or it is not the file the purge wrote); find an intact copy",
			"backup row %d: %s, which the purge that wrote this backup could not have deleted; nothing was written", n, fmt.Sprintf(format, args...))
	}
	return func(n int64, vals []any) error {
		id, ok, err := toInt(vals[idIdx])
		if err != nil || !ok {
			return forged(n, "it has no numeric id")
		}
		if m.CutoffID > 0 && id > m.CutoffID {
			return forged(n, "id %d is above the cut-off %d", id, m.CutoffID)
		}
		if b := m.Filters.Before; b != nil {
			before, known := s.isBefore(vals[timeIdx], *b)
			if !known || !before {
				return forged(n, "id %d is not dated before %s", id, b.UTC().Format(time.RFC3339))
			}
		}
		if len(users) > 0 && !s.userIn(vals[userIdx], users, userKeys) {
			return forged(n, "id %d belongs to %q, not one of the purge's users", id, valueText(vals[userIdx]))
		}
		if len(excl) > 0 && vals[userIdx] != nil && s.userIn(vals[userIdx], excl, exclKeys) {
			return forged(n, "id %d belongs to %q, whom the purge excluded", id, valueText(vals[userIdx]))
		}
		return nil
	}, nil
}

// storedUserValues are the user keys (Jira) or ids (Bitbucket) the mapping table holds for
// names, as the purge's userMatch resolved them.
func (s *Store) storedUserValues(ctx context.Context, names []string) (map[string]bool, error) {
	a := s.userIDs
	if a == nil {
		a = s.userKeys
	}
	out := map[string]bool{}
	if a == nil || len(names) == 0 {
		return out, nil
	}
	q := &query{d: s.dialect}
	rows, err := s.sql.QueryContext(ctx, "SELECT "+a.key+" FROM "+a.qualified+" WHERE "+q.in("LOWER("+a.name+")", names)+" AND "+a.key+" IS NOT NULL", q.args...)
	if err != nil {
		return nil, fmt.Errorf("read %s to check the backup's users: %w", a.qualified, err)
	}
	defer rows.Close()
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out[valueText(v)] = true
	}
	return out, rows.Err()
}

func (s *Store) userIn(v any, names []string, keys map[string]bool) bool {
	if v == nil {
		return false
	}
	t := valueText(v)
	if s.userIDs != nil {
		return keys[t]
	}
	return contains(names, strings.ToLower(t)) || keys[t]
}

// isBefore compares a backed-up time value with --before as the purge's SQL did; known is false
// for a value it cannot read (NULL is never before anything).
func (s *Store) isBefore(v any, b time.Time) (before, known bool) {
	if s.info.TimeKind == atlassian.TimeEpochMS {
		ms, ok, err := toInt(v)
		return ok && err == nil && ms < b.UnixMilli(), ok && err == nil
	}
	switch x := v.(type) {
	case time.Time:
		return x.Before(b), true
	case string:
		// PostgreSQL's infinities are kept as their text (backup.Infinite): -infinity is before
		// every time, as "created < $1" found it, and infinity before none.
		switch x {
		case "-infinity":
			return true, true
		case "infinity":
			return false, true
		}
		if t, err := backup.ParseTime(x); err == nil {
			if t, ok := t.(time.Time); ok {
				return t.Before(b), true
			}
		}
	}
	return false, false
}

// valueText is a user or key value as text, for matching and messages.
func valueText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
