package sqlstore

import (
	"context"
	"fmt"

	"github.com/reauth/reauth"
)

// CheckDeleteRights proves, without changing anything, that the database user may delete from the
// token table: a DELETE that matches no row, inside a transaction that is rolled back. Every engine
// checks the DELETE privilege when it plans the statement, so a missing grant fails here, in
// preflight, rather than halfway through a run.
func (s *Store) CheckDeleteRights(ctx context.Context) error {
	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("check delete rights on %s: %s", s.info.Qualified, redact(err.Error(), s.db))
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM "+s.info.Qualified+" WHERE 1 = 0"); err != nil {
		return reauth.Refused(fmt.Sprintf("grant DELETE on %s to %s (and SELECT, INSERT for restore)", s.info.Qualified, s.db.User),
			"database user %q may not delete from %s: %s", s.db.User, s.info.Qualified, redact(err.Error(), s.db))
	}
	return nil
}
