package sqlstore

import (
	"context"
	"strings"

	"github.com/reauth/reauth/internal/editdistance"
)

// Unknown is a user name the product does not know, and the known name closest to it ("" when
// none is close enough to be a typo).
type Unknown struct {
	Name, Suggest string
}

// UnknownUsers returns the names that are neither an active user of the product's directory nor
// a token holder (case-insensitive), each with a suggestion: a typo in an excluded user (the
// break-glass admin) would log that account out. checked is false when the database has no
// user table reauth can read, so that nothing could be checked.
func (s *Store) UnknownUsers(ctx context.Context, names []string) (unknown []Unknown, checked bool, err error) {
	l, err := s.SessionUsersFrom(ctx, UserSource{}, nil)
	if err != nil {
		return nil, false, err
	}
	if len(l.Sources) < 2 { // the token holders only: no directory to check against
		return nil, false, nil
	}
	known := map[string]bool{}
	for _, u := range l.Users {
		known[strings.ToLower(u)] = true
	}
	for _, n := range names {
		if known[strings.ToLower(strings.TrimSpace(n))] {
			continue
		}
		unknown = append(unknown, Unknown{Name: n, Suggest: closest(n, l.Users)})
	}
	return unknown, true, nil
}

// closest is the known name nearest to name by edit distance, when it is near enough to be a
// typo (at most 2 edits, and fewer than half the name's letters).
func closest(name string, known []string) string {
	best, bestD := "", 3
	n := strings.ToLower(name)
	for _, k := range known {
		d := editdistance.Of(n, strings.ToLower(k))
		if d < bestD && 2*d < len([]rune(n)) {
			best, bestD = k, d
		}
	}
	return best
}
