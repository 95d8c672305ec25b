package runbook

import (
	"context"
	"fmt"
	"strings"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/backup"
	"github.com/reauth/reauth/sqlstore"
)

// CompanionReport is the second token table a product keeps (Crowd's cwd_remember_me_token
// beside cwd_token): purged with the first, into its own backup, under the same lock.
type CompanionReport struct {
	Table    string   `json:"table"`
	CutoffID int64    `json:"cutoff_id"`
	ToDelete int64    `json:"to_delete"`
	Deleted  int64    `json:"deleted"`
	Backups  []string `json:"backups,omitempty"`
	SHA256   []string `json:"sha256,omitempty"`
	// Remaining is what verification found left of the rows issued before the cut-off.
	Remaining int64 `json:"remaining"`
}

// openCompanion opens the product's companion table, if it has one (prepare: reads only).
func (u *unit) openCompanion(ctx context.Context) error {
	c, ok, err := u.o.seams.companion(ctx, u.store)
	if err != nil {
		return fmt.Errorf("%s: %w", u.prod.Companion.Name, err)
	}
	if !ok {
		if u.prod.Companion.Name != "" {
			u.report.Warnings = append(u.report.Warnings, fmt.Sprintf("%s has no %s table (Crowd before 3.4 had no remember-me): nothing to purge there",
				u.prod.Name, u.prod.Companion.Name))
		}
		return nil
	}
	u.companion = c
	u.report.Companion = &CompanionReport{Table: c.Table().Name}
	return nil
}

// planCompanion counts what the companion purge will delete; cutoff 0 reads the highest id now.
func (u *unit) planCompanion(ctx context.Context, cutoff int64) error {
	if u.companion == nil {
		return nil
	}
	p, err := u.companion.Plan(ctx, sqlstore.PurgeOptions{CutoffID: cutoff, ExcludeUsers: u.inv.ExcludeUsers, PlanTop: -1})
	if err != nil {
		return fmt.Errorf("%s: plan the purge of %s: %w", u.prod.ID, u.report.Companion.Table, err)
	}
	u.report.Companion.CutoffID, u.report.Companion.ToDelete = p.CutoffID, p.ToDelete
	return nil
}

// purgeCompanion deletes the companion's rows issued before its cut-off, in batches, into its own
// backup. It runs once per run (journal CompanionDone); a resumed run repeats it with the same
// cut-off when it did not finish.
func (u *unit) purgeCompanion(ctx context.Context) error {
	j, c := u.journal, u.report.Companion
	if u.companion == nil || j.CompanionDone {
		return nil
	}
	if j.CompanionCutoffID <= 0 {
		j.CompanionDone = true
		return j.save(u.o.Now())
	}
	if len(j.CompanionBackups) > 0 { // a stopped run's parts: recorded before the next
		u.surveyParts(partList{paths: &j.CompanionBackups, sha: &j.CompanionSHA256, files: &j.CompanionFiles,
			deleted: &j.CompanionDeleted, table: c.Table})
	}
	path := strings.TrimSuffix(u.backupPath(), ".jsonl.gz") + "-" + c.Table + ".jsonl.gz"
	recorded := false
	record := func() error { // once the file exists, before its first delete (purgeStep's rule)
		j.CompanionBackups, recorded = append(j.CompanionBackups, path), true
		return j.save(u.o.Now())
	}
	// Named before a row goes, so that a killed run's file has a record (encrypted or not).
	u.step(StepBackupStart, "ok", map[string]any{"backup": path, "table": c.Table, "encrypted": len(u.rcpts) > 0})
	res, err := u.companion.Purge(ctx, sqlstore.PurgeOptions{CutoffID: j.CompanionCutoffID, ExcludeUsers: u.inv.ExcludeUsers,
		BackupPath: path, BackupRecipients: u.rcpts, Stop: u.o.Stop, BackupCreated: record})
	if !recorded && (err == nil || res.Deleted > 0) {
		if rerr := record(); rerr != nil && err == nil {
			err = rerr
		}
	}
	j.CompanionDeleted += res.Deleted
	c.Deleted, c.Backups = j.CompanionDeleted, j.CompanionBackups
	if err != nil {
		j.CompanionSHA256 = append(j.CompanionSHA256, "")
		u.step("purge-"+c.Table, "error", map[string]any{"deleted": res.Deleted, "backup": path, "cutoff_id": j.CompanionCutoffID, "encrypted": len(u.rcpts) > 0})
		return reauth.WithHint(fmt.Errorf("%s: purge of %s stopped after deleting %d row(s): %w", u.prod.ID, c.Table, res.Deleted, err),
			fmt.Sprintf("every deleted row is in %s; run again with --resume to finish it with the same cut-off", path))
	}
	j.CompanionSHA256 = append(j.CompanionSHA256, res.SHA256)
	j.CompanionFiles = append(j.CompanionFiles, backup.Part{Path: path, Rows: res.Deleted, SHA256: res.SHA256, Complete: true, Encrypted: len(u.rcpts) > 0})
	j.CompanionDone = true
	c.SHA256 = j.CompanionSHA256
	if err := j.save(u.o.Now()); err != nil {
		return err
	}
	u.step("purge-"+c.Table, "ok", map[string]any{"deleted": res.Deleted, "kept": res.Kept, "backup": path, "sha256": res.SHA256,
		"cutoff_id": j.CompanionCutoffID, "encrypted": len(u.rcpts) > 0})
	fmt.Fprintf(u.o.Err, "%s: purged %d row(s) of %s; backup %s verified\n", u.prod.ID, res.Deleted, c.Table, path)
	return nil
}

// verifyCompanion counts the companion's rows issued before its cut-off that are left: any is a
// problem (verification fails).
func (u *unit) verifyCompanion(ctx context.Context) {
	c := u.report.Companion
	if u.companion == nil || c == nil {
		return
	}
	v := &u.report.Verify
	cutoff := u.journal.CompanionCutoffID
	if cutoff <= 0 {
		c.Remaining = 0
		return
	}
	n, err := u.companion.Remaining(ctx, cutoff, sqlstore.PurgeOptions{ExcludeUsers: u.inv.ExcludeUsers})
	if err != nil {
		v.TokensChecked = false
		v.Problems = append(v.Problems, fmt.Sprintf("could not count the rows left in %s: %v", c.Table, err))
		return
	}
	c.Remaining = n
	if n > 0 {
		v.TokensRemaining += n
		v.Problems = append(v.Problems, fmt.Sprintf("%d row(s) of %s issued before the run remain", n, c.Table))
	}
}
