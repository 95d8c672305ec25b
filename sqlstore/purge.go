package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/backup"
)

// DefaultBatchSize is the first batch's size in an adaptive purge (batchsize.go) and restore's
// batch size. Measured with BenchmarkPurge (100,000 Jira tokens, this 2-core machine under load
// from other jobs): 2000 rows held their locks 36 ms on PostgreSQL 15 and 43 ms on MariaDB 10.11,
// well under the 100 ms a login may wait for a locked row.
const DefaultBatchSize = 2000

// batchTimeout bounds one batch. A batch is not cancelled by Ctrl-C (it finishes, so that the
// backup and the table agree), but it cannot hang forever either.
const batchTimeout = 2 * time.Minute

// queryTimeout bounds the counting reads (inspect, plan, verify): a COUNT over millions of rows
// takes seconds, so minutes mean the database is stuck, not busy.
const queryTimeout = 10 * time.Minute

// PurgeOptions scope a purge.
type PurgeOptions struct {
	// CutoffID: rows with id <= CutoffID are purged; 0 means the highest id seen when the purge
	// starts ("issued before this run"). Rerun with the same value to finish an interrupted purge.
	CutoffID int64
	// Before narrows to rows whose time column is before this time (Jira/Bamboo creation time,
	// Confluence creation epoch ms, Bitbucket EXPIRY time: Bitbucket has no creation time).
	Before *time.Time
	// Users / ExcludeUsers are login names, matched case-insensitively, also where the table
	// stores a user key (Jira 8+) or a numeric id (Bitbucket).
	Users, ExcludeUsers []string
	// BatchSize fixes the rows per batch; 0 sizes batches by the time they hold their locks
	// (Store.BatchTarget, starting at DefaultBatchSize).
	BatchSize int
	// Workers is how many batches run at once, each on its own connection (default
	// DefaultWorkers, 3 on MySQL and MariaDB; 1 with a Rest; always 1 on SQLite).
	Workers int
	// Rest is how long each worker rests after a batch, as a multiple of the time the batch took
	// (0: none; at most MaxRest). Meanwhile the database's CPU and disk go to its other users:
	// with one worker (the default with a rest) the purge keeps the database busy at most
	// 1/(1+Rest) of the time and takes about 1+Rest times as long or more.
	Rest       float64
	BackupPath string // the new backup file (never overwritten)
	// BackupCreated, when set, is called once the backup file exists (its manifest synced) and
	// before the first delete, so that the caller records the file only once it exists: a journal
	// must never name a backup that was not created. An error from it stops the purge before any
	// delete, and the file, which holds no row, is removed.
	BackupCreated func() error
	// BackupRecipients encrypt the backup (age); none: a clear backup.
	BackupRecipients []backup.Recipient
	ReauthVersion    string // recorded in the backup's manifest
	Progress         func(PurgeProgress)
	// ToDelete is the count of rows in scope when the caller has just counted them (a Plan with
	// the same options and CutoffID): it only feeds Progress, so Purge then skips its own COUNT
	// (about a second per million rows on MariaDB).
	ToDelete int64
	// PlanTop is how many users Plan lists (0: 20; negative: none, when nobody will read them).
	PlanTop int
	// SkipCounts: Plan and Purge do not count the rows in scope (PurgePlan.ToDelete and ToKeep
	// stay 0, Progress gets ToDelete 0), when nobody reads the counts: each COUNT reads the whole
	// table (about half a second per million rows on MariaDB).
	SkipCounts bool
	// Stop (the first Ctrl-C) stops the purge after the batches in flight: no new batch starts.
	// Cancelling Purge's ctx (the second) abandons the batches in flight too: they roll back;
	// their rows may already be in the backup (restore skips rows that exist).
	Stop reauth.Stop

	// usersTable, excludeTable: on a purge's own connections, the temporary tables holding long
	// Users / ExcludeUsers lists (nametable.go); "" for the inline list.
	usersTable, excludeTable string
}

// PurgeProgress is reported after every committed batch.
type PurgeProgress struct {
	Deleted, ToDelete int64
	Batches           int
	Elapsed           time.Duration
}

// PurgePlan is what a purge would do, from reads only.
type PurgePlan struct {
	CutoffID int64       `json:"cutoff_id"`
	ToDelete int64       `json:"to_delete"`
	ToKeep   int64       `json:"to_keep"`
	PerUser  []UserCount `json:"per_user"`
	// Users is how many distinct stored users the rows to delete belong to (PerUser lists the
	// top ones); 0 when not counted.
	Users    int64    `json:"users,omitempty"`
	Excluded []string `json:"excluded,omitempty"`
	SQL      []string `json:"sql"`
}

// PurgeResult is what a purge did. Kept counts the rows left in the table: issued after the
// cut-off, or outside --user/--exclude-user/--before.
type PurgeResult struct {
	Deleted    int64   `json:"deleted"`
	Kept       int64   `json:"kept"`
	Backup     string  `json:"backup"`
	SHA256     string  `json:"sha256"`
	Batches    int     `json:"batches"`
	MaxBatchMS float64 `json:"max_batch_ms"`
	CutoffID   int64   `json:"cutoff_id"`
}

func (o PurgeOptions) batchSize() int {
	if o.BatchSize <= 0 {
		return DefaultBatchSize
	}
	return o.BatchSize
}

// BatchTarget is how long an adaptive batch aims to hold its locks on this store's engine.
func (s *Store) BatchTarget() time.Duration {
	if t := s.dialect.caps().batchTarget; t > 0 {
		return t
	}
	return TargetBatchTime
}

// cutoff is o.CutoffID, or the highest id in the table now.
func (s *Store) cutoff(ctx context.Context, o PurgeOptions) (int64, error) {
	if o.CutoffID != 0 {
		return o.CutoffID, nil
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var v any
	if err := s.sql.QueryRowContext(ctx, "SELECT MAX("+s.qID+") FROM "+s.info.Qualified).Scan(&v); err != nil {
		return 0, fmt.Errorf("read the highest id of %s: %w", s.info.Qualified, err)
	}
	n, _, err := toInt(v)
	return n, err
}

func (s *Store) count(ctx context.Context, cond string, args []any) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var v any
	if err := s.sql.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+s.info.Qualified+where(cond), args...).Scan(&v); err != nil {
		return 0, fmt.Errorf("count rows of %s: %w", s.info.Qualified, err)
	}
	n, _, err := toInt(v)
	return n, err
}

// scope is "id <= cutoff AND filters" with its arguments.
func (s *Store) scope(q *query, cutoff int64, o PurgeOptions) string {
	return and(s.qID+" <= "+q.arg(cutoff), s.filterSQL(q, o))
}

// Remaining counts the rows a purge with these options would still delete: 0 after a complete
// purge (the verify step).
func (s *Store) Remaining(ctx context.Context, cutoffID int64, o PurgeOptions) (int64, error) {
	if err := s.checkFilters(o); err != nil {
		return 0, err
	}
	q := &query{d: s.dialect}
	return s.count(ctx, s.scope(q, cutoffID, o), q.args)
}

// returningSQL is a batch's DELETE … RETURNING over the window (lo, hi], "" when the dialect has
// none.
func (s *Store) returningSQL(lo, hi int64, o PurgeOptions, n int) (string, []any) {
	rd, ok := s.dialect.(returningDeleter)
	if !ok {
		return "", nil
	}
	q := &query{d: s.dialect}
	cond := and(s.qID+" > "+q.arg(lo), s.scope(q, hi, o))
	return rd.DeleteReturning(s.qCols, s.info.Qualified, s.qID, cond, n), q.args
}

// batchSQL is a batch's SELECT: rows in scope with lo < id <= hi (hi: the end of the batch's id
// window, never above the cut-off), locked, at most n of them.
func (s *Store) batchSQL(lo, hi int64, o PurgeOptions, n int) (string, []any) {
	q := &query{d: s.dialect}
	cond := and(s.qID+" > "+q.arg(lo), s.scope(q, hi, o))
	return s.dialect.SelectBatch(s.qCols, s.info.Qualified, s.qID, cond, n), q.args
}

// Plan reports what Purge would do, from reads only: the cut-off, how many rows go and stay,
// the top users, and the exact SQL of a batch.
func (s *Store) Plan(ctx context.Context, o PurgeOptions) (PurgePlan, error) {
	if err := s.checkFilters(o); err != nil {
		return PurgePlan{}, err
	}
	cutoff, err := s.cutoff(ctx, o)
	if err != nil {
		return PurgePlan{}, err
	}
	p := PurgePlan{CutoffID: cutoff, Excluded: lowerAll(o.ExcludeUsers)}
	q := &query{d: s.dialect}
	cond := s.scope(q, cutoff, o)
	if !o.SkipCounts {
		total, err := s.count(ctx, "", nil)
		if err != nil {
			return p, err
		}
		if p.ToDelete, err = s.count(ctx, cond, q.args); err != nil {
			return p, err
		}
		p.ToKeep = total - p.ToDelete
	}
	top := o.PlanTop
	if top == 0 {
		top = 20
	}
	if top > 0 { // a GROUP BY over the scope: about a second per million rows on MariaDB
		if p.PerUser, err = s.topUsers(ctx, q, cond, top); err != nil {
			return p, err
		}
		if p.Users = int64(len(p.PerUser)); len(p.PerUser) == top {
			if p.Users, err = s.countUsers(ctx, cond, q.args); err != nil {
				return p, err
			}
		}
	}
	sel, args := s.batchSQL(math.MinInt64, cutoff, o, o.batchSize())
	n := min(o.batchSize(), s.dialect.MaxBindParams())
	del := deleteByIDs(s.dialect, s.info.Qualified, s.qID, 3) + " -- … the exact ids the SELECT returned, at most " +
		strconv.Itoa(n) + " per statement"
	if ad, ok := s.dialect.(arrayDeleter); ok {
		if a := ad.DeleteByArray(s.info.Qualified, s.qID, s.idType()); a != "" {
			del = a + " -- $1 = '{…}': the exact ids the SELECT returned"
		}
	}
	p.SQL = []string{
		sel + " -- args " + fmt.Sprint(args) + " (then each batch's id window (lo, hi], up to the cut-off)",
		del + ", in the same transaction, after the rows are fsynced to the backup",
	}
	if ret, rargs, _ := s.windowReturningSQL(math.MinInt64, cutoff, o, o.batchSize()); ret != "" && !s.noReturning {
		p.SQL = []string{ret + " -- args " + fmt.Sprint(rargs) + " (then each batch's id window (lo, hi], up to the cut-off);" +
			" the returned rows are fsynced to the backup before the transaction commits"}
	}
	return p, nil
}

// Purge backs up and deletes the rows in scope with id <= cut-off, in batches over disjoint id
// windows, several at once (Workers): each batch's rows are deleted returning them (or selected
// and locked), appended to the backup and fsynced, and only then is its transaction committed
// (deleted by their exact ids first, where the rows were selected). Rows issued after the
// cut-off are kept. Cancelling ctx stops after the batches in flight with a finished backup
// and an error saying how to continue. The backup is read back from the file (as it is
// written) and checked before success is reported.
func (s *Store) Purge(ctx context.Context, o PurgeOptions) (PurgeResult, error) {
	if err := s.checkFilters(o); err != nil {
		return PurgeResult{}, err
	}
	if err := CheckRest(o.Rest); err != nil {
		return PurgeResult{}, err
	}
	if o.BackupPath == "" {
		return PurgeResult{}, reauth.Usage("give --backup FILE", "purge needs a backup file name")
	}
	cutoff, err := s.cutoff(ctx, o)
	if err != nil {
		return PurgeResult{}, err
	}
	res := PurgeResult{CutoffID: cutoff, Backup: o.BackupPath}
	toDelete := o.ToDelete
	if (toDelete <= 0 || o.CutoffID == 0) && !o.SkipCounts {
		q := &query{d: s.dialect}
		if toDelete, err = s.count(ctx, s.scope(q, cutoff, o), q.args); err != nil {
			return res, err
		}
	}
	w, err := backup.Create(o.BackupPath, s.manifest(cutoff, o), o.BackupRecipients...)
	if err != nil {
		return res, err
	}
	// Verify the file as it is written (the same checks as backup.Verify, on the bytes read back
	// from the file), so that the check after the last batch is not a second pass over it all.
	fl, err := w.Follow()
	if err != nil {
		w.Close()
		return res, err
	}
	if err := backupCreated(o, w, fl); err != nil {
		return res, err
	}
	start := time.Now()
	interrupted, loopErr := s.pipeline(ctx, o, cutoff, w, func(n int, ms float64) {
		res.Deleted += int64(n)
		res.Batches++
		res.MaxBatchMS = math.Max(res.MaxBatchMS, ms)
		if o.Progress != nil {
			o.Progress(PurgeProgress{Deleted: res.Deleted, ToDelete: toDelete, Batches: res.Batches, Elapsed: time.Since(start)})
		}
	})
	written := w.Rows()
	sum, cerr := w.Close()
	res.SHA256 = sum.SHA256
	v, verr := fl.Wait()
	if loopErr != nil || interrupted {
		hint := fmt.Sprintf("the backup %s holds every row deleted so far (%d)", o.BackupPath, res.Deleted)
		if extra := written - res.Deleted; extra > 0 {
			hint += fmt.Sprintf(", and %d rows of batches that failed and were not deleted (restore skips rows that exist)", extra)
		}
		if cerr == nil && verr == nil && v.Rows == sum.Rows && v.SHA256 == sum.SHA256 {
			hint += fmt.Sprintf("; it was read back and checked (%d rows, sha256 %s): keep it", v.Rows, sum.SHA256)
		} else {
			hint += fmt.Sprintf("; it did not read back complete (%v): keep it, restore takes every complete row in it", errors.Join(cerr, verr))
		}
		hint += ". To finish, run the same purge again with the same cut-off (tokens issued since then are kept) and a new backup file: " +
			resumeFlags(cutoff, o)
		if loopErr == nil {
			return res, &reauth.Error{Code: reauth.ExitInterrupted, Op: "purge",
				Err: fmt.Errorf("interrupted after %d batches (%d rows deleted)", res.Batches, res.Deleted), Hint: hint}
		}
		if ctx.Err() != nil {
			return res, &reauth.Error{Code: reauth.ExitInterrupted, Op: "purge",
				Err: fmt.Errorf("interrupted again: the batches in flight were abandoned and rolled back, after %d batches (%d rows deleted)",
					res.Batches, res.Deleted), Hint: hint}
		}
		return res, &reauth.Error{Code: reauth.ExitFailed, Op: "purge", Err: loopErr, Hint: hint}
	}
	if cerr != nil {
		return res, cerr
	}
	// Success is only reported for a backup that reads back complete from the file, and (no
	// batch failed) holds exactly the rows deleted.
	if verr != nil {
		return res, fmt.Errorf("check the backup after the purge: %w", verr)
	}
	if v.Rows != sum.Rows || v.SHA256 != sum.SHA256 || sum.Rows != res.Deleted {
		return res, reauth.Failed("keep the file and restore from it: reauth restore TARGET "+o.BackupPath,
			"backup check failed: the file holds %d rows (sha256 %s), the writer wrote %d (sha256 %s) and the purge deleted %d",
			v.Rows, v.SHA256, sum.Rows, sum.SHA256, res.Deleted)
	}
	if res.Kept, err = s.count(ctx, "", nil); err != nil {
		return res, err
	}
	return res, nil
}

// backupCreated tells the caller that the backup file exists (o.BackupCreated), before the first
// delete; when the caller fails to record it, the file, which holds the manifest only, is removed.
func backupCreated(o PurgeOptions, w *backup.Writer, fl *backup.Follower) error {
	if o.BackupCreated == nil {
		return nil
	}
	err := o.BackupCreated()
	if err == nil {
		return nil
	}
	_, _ = w.Close()
	_, _ = fl.Wait()
	_ = os.Remove(o.BackupPath)
	return fmt.Errorf("record the backup %s before the first delete (nothing was deleted): %w", o.BackupPath, err)
}

// resumeFlags are the purge flags that finish an interrupted purge: its cut-off and its filters,
// quoted for a POSIX shell where needed.
func resumeFlags(cutoff int64, o PurgeOptions) string {
	f := []string{"--cutoff-id", strconv.FormatInt(cutoff, 10)}
	for _, u := range o.Users {
		f = append(f, "--user", reauth.ShellQuote(u))
	}
	for _, u := range o.ExcludeUsers {
		f = append(f, "--exclude-user", reauth.ShellQuote(u))
	}
	if o.Before != nil {
		f = append(f, "--before", o.Before.UTC().Format(time.RFC3339Nano))
	}
	if o.Rest > 0 { // not a filter, but the admin chose a gentle purge: finish it gently too
		f = append(f, "--rest", strconv.FormatFloat(o.Rest, 'g', -1, 64))
	}
	return strings.Join(f, " ")
}

func (s *Store) idType() string {
	for _, c := range s.info.Columns {
		if c.Name == s.info.ID {
			return c.SQLType
		}
	}
	return ""
}

func (s *Store) manifest(cutoff int64, o PurgeOptions) backup.Manifest {
	m := backup.Manifest{Product: string(s.product.ID), Table: s.info.Qualified, TableName: s.info.Name, IDColumn: s.info.ID,
		Columns: s.info.Columns, Database: backup.DatabaseOf(s.db), CutoffID: cutoff, ReauthVersion: o.ReauthVersion,
		Started: time.Now().UTC(), Filters: backup.Filters{Before: o.Before, Users: lowerAll(o.Users), ExcludeUsers: lowerAll(o.ExcludeUsers)}}
	m.Database.Schema = s.info.Schema
	return m
}
