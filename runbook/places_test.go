package runbook

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/sqlstore"
)

// A backup_dir, or an audit log's directory, that the inventory names and that does not exist is
// refused by the preflight (exit 4), in a dry run too, before the cut-off and the proof token: a
// run creates only its own state directory, and would otherwise fail at its first write.
func TestFakeMissingDirectoriesRefusedInPreflight(t *testing.T) {
	for _, tc := range []struct{ name, setting, want string }{
		{"backup_dir", "backup_dir", "backup directory"},
		{"audit_log", "audit_log", "audit log directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeJob(t)
			missing := filepath.Join(f.dir, "no-such-dir")
			if tc.setting == "backup_dir" {
				f.inv.Defaults.BackupDir = missing
			} else {
				f.inv.Defaults.AuditLog = filepath.Join(missing, "audit.jsonl")
			}
			for _, dry := range []bool{true, false} {
				o := f.options()
				o.DryRun = dry
				_, err := f.run(o)
				if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), tc.want) ||
					!strings.Contains(err.Error(), missing+" does not exist") || !strings.Contains(reauth.HintOf(err)+err.Error(), "mkdir") {
					t.Fatalf("dry run %v with %s missing: %v (code %d), want exit 4 naming it and how to create it", dry, tc.setting, err, reauth.CodeOf(err))
				}
			}
			for _, m := range []string{"Plan", "Mint", "Purge"} {
				if n := f.store.Count(m); n != 0 {
					t.Errorf("a refused run called %s %d times", m, n)
				}
			}
			if _, err := os.Stat(missing); !os.IsNotExist(err) {
				t.Errorf("the preflight created %s", missing)
			}
		})
	}
}

// A purge that fails before its backup file exists leaves a journal that names no backup and
// says nothing was deleted (phase started): a journal never names a backup that was not created.
// Once the store has created the file (BackupCreated), the journal names it before any delete.
func TestFakeJournalNamesOnlyCreatedBackups(t *testing.T) {
	f := newFakeJob(t)
	f.store.PurgeFunc = func(context.Context, sqlstore.PurgeOptions) (sqlstore.PurgeResult, error) {
		return sqlstore.PurgeResult{}, errors.New("create backup: no such file or directory")
	}
	o := f.options()
	if _, err := f.run(o); err == nil || !strings.Contains(reauth.HintOf(err), "nothing was deleted") {
		t.Fatalf("run with a backup that cannot be created: %v (hint %q)", err, reauth.HintOf(err))
	}
	j := f.journal(o)
	if j == nil || len(j.Backups) != 0 || j.Phase != PhaseStarted {
		t.Fatalf("journal after a purge that created no backup: %+v", j)
	}

	f = newFakeJob(t)
	o = f.options()
	var named []string
	var phase Phase
	f.store.PurgeFunc = func(_ context.Context, po sqlstore.PurgeOptions) (sqlstore.PurgeResult, error) {
		if err := os.WriteFile(po.BackupPath, []byte("manifest"), 0o600); err != nil {
			return sqlstore.PurgeResult{}, err
		}
		if err := po.BackupCreated(); err != nil {
			return sqlstore.PurgeResult{}, err
		}
		jj, _, _ := loadJournal(journalPath(&o, &f.inv.Products[0]))
		named, phase = jj.Backups, jj.Phase
		return sqlstore.PurgeResult{Deleted: 3, Backup: po.BackupPath}, errors.New("connection lost")
	}
	if _, err := f.run(o); err == nil {
		t.Fatal("run whose purge failed succeeded")
	}
	if len(named) != 1 || phase != PhasePurging {
		t.Fatalf("journal when the backup was created: backups %v, phase %q; want it named, phase purging", named, phase)
	}
	if j := f.journal(o); len(j.Backups) != 1 || j.Backups[0] != named[0] || j.Deleted != 3 {
		t.Fatalf("journal after the failure: %+v", j)
	}
	if _, err := os.Stat(named[0]); err != nil {
		t.Fatalf("the journal names %s: %v", named[0], err)
	}
}
