package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/backup"
)

// RestoreOptions tune Restore.
type RestoreOptions struct {
	BatchSize int
	// Warn receives warnings (a backup without trailer); nil = the store's logger only.
	Warn func(string)
	// Identities decrypt an encrypted backup.
	Identities []backup.Identity
	// AcceptTruncated restores a backup without trailer (its purge stopped before finishing
	// it): every complete batch in it. Without it such a file is refused.
	AcceptTruncated bool
	// SHA256 is the digest the audit log records for this file (of its manifest and rows, as the
	// trailer has it); "" when there is none. A file whose rows do not give it is refused.
	SHA256 string
}

// RestoreResult is what Restore did. Skipped rows already existed (same id): restore is
// idempotent.
type RestoreResult struct {
	Restored  int64 `json:"restored"`
	Skipped   int64 `json:"skipped"`
	Truncated bool  `json:"truncated,omitempty"`
}

// Restore puts a backup's rows back, in batches, skipping rows whose id exists. It refuses (exit
// 4, nothing written) a backup of another product or table, or whose columns differ from the
// live table's; a file that does not verify (checksum, encryption); a file without trailer
// unless o.AcceptTruncated (then every complete batch); and a file holding any row the purge
// that wrote it could not have deleted (an id above the manifest's cut-off, or outside its
// filters): someone added it.
func (s *Store) Restore(ctx context.Context, path string, o RestoreOptions) (RestoreResult, error) {
	var res RestoreResult
	// First pass: check the whole file, and every row, before writing anything.
	rows, truncated, err := s.CheckBackup(ctx, path, o.Identities, o.SHA256)
	if err != nil {
		return res, err
	}
	if truncated {
		if !o.AcceptTruncated {
			return res, reauth.Refused("if the purge that wrote it stopped (its output said so), restore every complete batch of it with --accept-truncated",
				"backup %s has no trailer: it is incomplete (the purge stopped before finishing it) or was cut; nothing was written", path)
		}
		res.Truncated = true
		msg := fmt.Sprintf("backup %s has no trailer (the purge that wrote it stopped before finishing it): restoring the %d rows of its complete batches", path, rows)
		s.log.Warn(msg)
		if o.Warn != nil {
			o.Warn(msg)
		}
	}
	r, err := backup.OpenWith(path, o.Identities)
	if err != nil {
		return res, err
	}
	defer r.Close()
	colIdx, err := s.matchBackup(r.Manifest())
	if err != nil {
		return res, err
	}
	check, err := s.rowChecker(ctx, r.Manifest(), colIdx)
	if err != nil {
		return res, err
	}
	n := o.BatchSize
	if n <= 0 {
		n = DefaultBatchSize
	}
	n = min(n, s.dialect.MaxBindParams())
	insert := s.insertSQL(r.Manifest().Columns, colIdx)
	idIdx := colIdx[-1]
	batch := make([][]any, 0, n)
	for {
		if ctx.Err() != nil {
			return res, &reauth.Error{Code: reauth.ExitInterrupted, Op: "restore",
				Err:  fmt.Errorf("interrupted after %d rows restored", res.Restored),
				Hint: "run the same restore again: rows already back are skipped"}
		}
		batch = batch[:0]
		for len(batch) < n {
			vals, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return res, err
			}
			if err := check(r.Rows(), vals); err != nil { // the file changed since the first pass
				return res, err
			}
			batch = append(batch, vals)
		}
		if len(batch) == 0 {
			return res, nil
		}
		added, err := s.restoreBatch(context.WithoutCancel(ctx), insert, idIdx, batch)
		if err != nil {
			return res, fmt.Errorf("restore into %s: %w", s.info.Qualified, err)
		}
		res.Restored += added
		res.Skipped += int64(len(batch)) - added
	}
}

// CheckBackup reads the whole file once: every batch authenticated (encrypted) or checksummed,
// the trailer checked, every row checked against the manifest's scope, and, when wantSHA256 is
// not "", the digest of its manifest and rows against it (the audit log's record of the file). A
// file that fails is refused (exit 4): nothing has been written.
func (s *Store) CheckBackup(ctx context.Context, path string, ids []backup.Identity, wantSHA256 string) (rows int64, truncated bool, err error) {
	refuse := func(err error) error {
		var re *reauth.Error
		if errors.As(err, &re) && re.Code == reauth.ExitRefused {
			return err
		}
		return &reauth.Error{Code: reauth.ExitRefused, Err: fmt.Errorf("%w; nothing was written", err),
			Hint: "keep the file as it is and find an intact copy; the checks found it changed or damaged since the purge wrote it"}
	}
	r, err := backup.OpenWith(path, ids)
	if err != nil {
		return 0, false, refuse(err)
	}
	defer r.Close()
	colIdx, err := s.matchBackup(r.Manifest())
	if err != nil {
		return 0, false, err
	}
	check, err := s.rowChecker(ctx, r.Manifest(), colIdx)
	if err != nil {
		return 0, false, err
	}
	for {
		vals, err := r.Next()
		if err == io.EOF {
			if got := r.SHA256(); wantSHA256 != "" && !strings.EqualFold(got, wantSHA256) {
				return 0, false, reauth.Refused("do not restore this file: it is not the file the run wrote (someone who could write it replaced it); find an intact copy whose sha256 is the recorded one",
					"backup %s: its rows give sha256 %s, the audit log records %s for it; nothing was written", path, got, wantSHA256)
			}
			return r.Rows(), r.Truncated(), nil
		}
		if err != nil {
			return 0, false, refuse(err)
		}
		if err := check(r.Rows(), vals); err != nil {
			return 0, false, err
		}
	}
}

// matchBackup maps the backup's columns onto the live table's, refusing any difference.
// The returned map has the backup index of the id column at key -1.
func (s *Store) matchBackup(m backup.Manifest) (map[int]int, error) {
	hint := "restore it into the database and product it was taken from (reauth restore --product " + m.Product + " …)"
	if m.Product != string(s.product.ID) {
		return nil, reauth.Refused(hint, "backup is of %s tokens, this target is %s", m.Product, s.product.ID)
	}
	if !strings.EqualFold(m.TableName, s.info.Name) {
		return nil, reauth.Refused(hint, "backup is of table %s, this target's token table is %s", m.Table, s.info.Qualified)
	}
	idx := map[int]int{-1: -1}
	var diffs []string
	for i, c := range m.Columns {
		found := false
		for j, l := range s.info.Columns {
			if strings.EqualFold(c.Name, l.Name) {
				found = true
				idx[i] = j
				if c.Kind != l.Kind {
					diffs = append(diffs, fmt.Sprintf("%s is %s in the backup, %s now", c.Name, c.SQLType, l.SQLType))
				}
				if strings.EqualFold(c.Name, s.info.ID) {
					idx[-1] = i
				}
			}
		}
		if !found {
			diffs = append(diffs, "column "+c.Name+" is not in the live table")
		}
	}
	if len(m.Columns) != len(s.info.Columns) {
		diffs = append(diffs, fmt.Sprintf("the backup has %d columns, the live table %d (%s)", len(m.Columns),
			len(s.info.Columns), strings.Join(colNames(s.info.Columns), ", ")))
	}
	if idx[-1] < 0 {
		diffs = append(diffs, "the backup has no id column "+s.info.ID)
	}
	if len(diffs) > 0 {
		return nil, reauth.Refused("the table's shape changed since the backup (an upgrade?): restore needs the same columns; nothing was written",
			"backup %s does not match table %s: %s", m.Table, s.info.Qualified, strings.Join(diffs, "; "))
	}
	return idx, nil
}

func (s *Store) insertSQL(cols []backup.Column, idx map[int]int) string {
	names := make([]string, len(cols))
	ph := make([]string, len(cols))
	for i := range cols {
		names[i] = s.dialect.Quote(s.info.Columns[idx[i]].Name)
		ph[i] = s.dialect.Placeholder(i + 1)
	}
	return "INSERT INTO " + s.info.Qualified + " (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(ph, ", ") + ")"
}

func (s *Store) restoreBatch(ctx context.Context, insert string, idIdx int, batch [][]any) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, batchTimeout)
	defer cancel()
	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	q := &query{d: s.dialect}
	ph := make([]string, len(batch))
	for i, row := range batch {
		ph[i] = q.arg(row[idIdx])
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+s.qID+" FROM "+s.info.Qualified+" WHERE "+s.qID+" IN ("+strings.Join(ph, ", ")+")", q.args...)
	if err != nil {
		return 0, err
	}
	exists := map[int64]bool{}
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return 0, err
		}
		id, _, err := toInt(v)
		if err != nil {
			rows.Close()
			return 0, err
		}
		exists[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	stmt, err := tx.PrepareContext(ctx, insert)
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	var added int64
	for _, row := range batch {
		if id, _ := row[idIdx].(int64); exists[id] {
			continue
		}
		if _, err := stmt.ExecContext(ctx, row...); err != nil {
			return 0, err
		}
		added++
	}
	return added, tx.Commit()
}
