package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/backup"
)

// clearBackupWarning is said in the plan, the result and --json of a purge without recipient.
const clearBackupWarning = "the backup is NOT encrypted: it holds live login tokens, and anyone who reads it can log in as " +
	"those users until their cookies expire; next time encrypt it with --backup-recipient (an age or SSH public key), " +
	"or shred it once it is no longer needed (reauth backups shred)"

// backupPlace is where a purge writes its backup, and how.
type backupPlace struct {
	explicit   string // --backup
	state      reauth.StateDir
	recipients []backup.Recipient
}

// backupPlace resolves --backup, --state-dir and --backup-recipient, and refuses a place others
// copy or publish (a git work tree, the product's home) unless --backup names it and
// --allow-backup-in-tree is given. It writes nothing.
func (o purgeOptions) backupPlace(streams IO) (*backupPlace, error) {
	if o.allowInTree && o.backup == "" {
		return nil, usageError{cmd: "purge", err: fmt.Errorf("--allow-backup-in-tree goes with --backup FILE (name the file you mean)")}
	}
	rs, err := parseRecipients(o.recipients)
	if err != nil {
		return nil, err
	}
	pl := &backupPlace{explicit: o.backup, recipients: rs}
	if o.backup != "" {
		if !o.allowInTree {
			if err := backup.CheckPlace(o.backup, backup.ProductHomes(o.target.home), "--backup"); err != nil {
				return nil, err
			}
		}
		return pl, nil
	}
	if pl.state, err = reauth.ResolveStateDir(o.stateDir, streams.getenv); err != nil {
		return nil, err
	}
	if err := backup.CheckPlace(filepath.Join(pl.state.Backups(), "x"), backup.ProductHomes(o.target.home), "--state-dir"); err != nil {
		return nil, err
	}
	return pl, nil
}

// check is the preflight: the file can be created (in a dry run too, without creating it: a
// probe file is created in its directory and removed).
func (pl *backupPlace) check() error {
	if pl.explicit != "" {
		if err := backup.CheckNew(pl.explicit); err != nil {
			return err
		}
		return reauth.CheckWritableDir(filepath.Dir(pl.explicit), "the --backup file's directory",
			"give --backup a path in a directory you can write to")
	}
	return reauth.CheckWritableDir(pl.state.Backups(), "backup directory",
		"pass --state-dir DIR naming a private directory you can write to, or --backup FILE")
}

// path is the backup file to create; the state directory is created (0700) when it is used.
func (pl *backupPlace) path(product string, now time.Time) (string, error) {
	if pl.explicit != "" {
		return pl.explicit, nil
	}
	dir, err := pl.state.Ensure("backups")
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, backup.DefaultName(product, now)), nil
}

func (pl *backupPlace) warnings() []string {
	if len(pl.recipients) > 0 {
		return nil
	}
	return []string{clearBackupWarning}
}

func (pl *backupPlace) printWarning(w io.Writer) {
	for _, s := range pl.warnings() {
		fmt.Fprintf(w, "warning: %s\n", s)
	}
}

// identityHint is the restore flag an encrypted backup needs, for the "undo" line.
func (pl *backupPlace) identityHint() string {
	if len(pl.recipients) == 0 {
		return ""
	}
	return "--identity YOUR-KEY-FILE "
}
