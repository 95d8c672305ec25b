package runbook

import (
	"context"
	"fmt"
	"strings"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/sqlstore"
)

// userChecker is a token store that can tell the product's user names from typos.
type userChecker interface {
	UnknownUsers(ctx context.Context, names []string) ([]sqlstore.Unknown, bool, error)
}

// checkExcluded refuses an exclude_users name the product does not know, unless
// --allow-unknown-user: the account the operator means to keep (the break-glass admin) would
// be logged out by a typo, in the middle of an incident.
func (u *unit) checkExcluded(ctx context.Context) error {
	uc, ok := u.store.(userChecker)
	if !ok || len(u.inv.ExcludeUsers) == 0 {
		return nil
	}
	unknown, checked, err := uc.UnknownUsers(ctx, u.inv.ExcludeUsers)
	if err != nil {
		return fmt.Errorf("check exclude_users against the product's users: %w", err)
	}
	if !checked || len(unknown) == 0 {
		return nil
	}
	var lines []string
	for _, x := range unknown {
		line := fmt.Sprintf("%s: no such user", fields([]string{x.Name}))
		if x.Suggest != "" {
			line += fmt.Sprintf(" (did you mean %s?)", fields([]string{x.Suggest}))
		}
		lines = append(lines, line)
	}
	msg := "exclude_users names users the product does not know (neither an active account nor a token holder): " + strings.Join(lines, "; ")
	if u.o.AllowUnknownUsers {
		u.report.Warnings = append(u.report.Warnings, msg+" (--allow-unknown-user)")
		return nil
	}
	return reauth.Refused(fmt.Sprintf("correct exclude_users in %s (a misspelt account is logged out like everyone else), "+
		"or pass --allow-unknown-user if the names are right", u.file().Path), "%s", msg)
}
