package reauth

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// StateDir is reauth's private directory on the admin host: backups (which hold live login
// tokens), run and restart journals, and the audit log when no other place is configured. It is
// $XDG_STATE_HOME/reauth, else ~/.local/state/reauth, or what --state-dir names; reauth creates
// it (and its backups directory) 0700.
//
// It is one place for every command, so that a journal written by `run` is found by `restart`,
// and never beside the inventory (a Kubernetes ConfigMap mount is read-only, and an ops-scripts
// checkout is one `git add -A` away from publishing a backup).
type StateDir struct {
	Path string // absolute
}

// ResolveStateDir says where the state directory is: override (--state-dir) when given, else
// $XDG_STATE_HOME/reauth (when absolute, as the XDG spec requires), else $HOME/.local/state/reauth.
// It creates nothing: see Ensure.
func ResolveStateDir(override string, getenv func(string) string) (StateDir, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	dir := override
	switch {
	case dir != "":
	case filepath.IsAbs(getenv("XDG_STATE_HOME")):
		dir = filepath.Join(getenv("XDG_STATE_HOME"), "reauth")
	case filepath.IsAbs(getenv("HOME")):
		dir = filepath.Join(getenv("HOME"), ".local", "state", "reauth")
	default:
		return StateDir{}, Usage("pass --state-dir DIR (a private directory reauth may create), or set HOME or XDG_STATE_HOME",
			"no state directory: neither XDG_STATE_HOME nor HOME is set to an absolute path")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return StateDir{}, Usage("pass --state-dir as an absolute path", "state directory %q: %v", dir, err)
	}
	return StateDir{Path: abs}, nil
}

// Ensure creates the state directory and its subdirectory sub (if any), each 0700 when created,
// and returns the path of the deepest. An existing directory that anyone else may write to (a
// shared /tmp, say) or that another user owns is refused, and so is a symbolic link to one:
// another user could replace a journal or read a backup's name.
func (d StateDir) Ensure(sub ...string) (string, error) {
	if d.Path == "" {
		return "", Usage("pass --state-dir DIR", "no state directory")
	}
	dir := d.Path
	for i := -1; i < len(sub); i++ {
		if i >= 0 {
			dir = filepath.Join(dir, sub[i])
		}
		if err := ensurePrivateDir(dir); err != nil {
			return "", err
		}
	}
	return dir, nil
}

func ensurePrivateDir(dir string) error {
	fi, err := os.Lstat(dir)
	if os.IsNotExist(err) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return Refused("pass --state-dir DIR naming a directory you can write to", "create state directory %s: %w", dir, err)
		}
		return os.Chmod(dir, 0o700) // MkdirAll applies the umask; the backups must stay private
	}
	if err != nil {
		return Refused("pass --state-dir DIR naming a directory you can write to", "state directory %s: %w", dir, err)
	}
	target := dir
	if fi.Mode()&os.ModeSymlink != 0 {
		// A link is allowed (backups on a bigger disk), but it is the target that holds the tokens,
		// so the target is what must be private: a link into a shared /tmp is not.
		if target, err = filepath.EvalSymlinks(dir); err != nil {
			return Refused(fmt.Sprintf("remove the link %s, or point it at a private directory", ShellQuote(dir)),
				"state directory %s is a symbolic link that cannot be followed: %w", dir, err)
		}
		if fi, err = os.Stat(target); err != nil {
			return Refused("pass --state-dir DIR naming a directory you can write to", "state directory %s (-> %s): %w", dir, target, err)
		}
	}
	return checkPrivate(dir, target, fi)
}

// checkPrivate refuses a state directory that anyone but the running user may change: writable by
// group or others (a sticky bit does not help: another user could still plant a journal under a
// name reauth will read), or owned by another user (the owner can replace or read what is inside).
func checkPrivate(dir, target string, fi os.FileInfo) error {
	name := dir
	if target != dir {
		name = dir + " (a link to " + target + ")"
	}
	if !fi.IsDir() {
		return Refused("pass --state-dir DIR naming a directory", "state directory %s is not a directory", name)
	}
	// For a link, the fix is the link: chmod or chown on a shared target (/tmp) would be wrong.
	linkFix := fmt.Sprintf("remove the link %s (reauth then creates a private directory there), or point it at a directory only you can write", ShellQuote(dir))
	if uid, ok := ownerOf(fi); ok && uid != os.Geteuid() {
		fix := fmt.Sprintf("run 'chown %d %s' as root, or pass --state-dir DIR naming a directory of your own", os.Geteuid(), ShellQuote(target))
		if target != dir {
			fix = linkFix
		}
		return Refused(fix, "state directory %s is owned by uid %d, not by the user running reauth (uid %d)", name, uid, os.Geteuid())
	}
	if fi.Mode().Perm()&0o022 != 0 {
		fix := fmt.Sprintf("run 'chmod 700 %s', or pass --state-dir DIR naming a private directory", ShellQuote(target))
		if target != dir {
			fix = linkFix
		}
		return Refused(fix, "state directory %s is writable by other users (mode %v)", name, fi.Mode().Perm())
	}
	return nil
}

// Backups is where backups go when neither --backup nor the inventory's backup_dir says.
func (d StateDir) Backups() string { return filepath.Join(d.Path, "backups") }

// AuditLog is the audit log when the inventory's defaults.audit_log does not name one.
func (d StateDir) AuditLog() string { return filepath.Join(d.Path, "audit.jsonl") }

// RunJournal is the journal of `reauth run` for product of the inventory at inventoryPath.
func (d StateDir) RunJournal(inventoryPath, product string) string {
	return filepath.Join(d.Path, "journal-"+product+"-"+scope(inventoryPath)+".run.json")
}

// RestartJournal is the journal of a product's rolling restart: one name for the restart step of
// `reauth run` and for `reauth restart`, so that either can resume what the other left.
func (d StateDir) RestartJournal(inventoryPath, product string) string {
	return filepath.Join(d.Path, "journal-"+product+"-"+scope(inventoryPath)+".restart.json")
}

// scope tells apart two inventories naming the same product (two Jira clusters run from one host):
// a short hash of the inventory's absolute path.
func scope(inventoryPath string) string {
	if abs, err := filepath.Abs(inventoryPath); err == nil {
		inventoryPath = abs
	}
	sum := sha256.Sum256([]byte(inventoryPath))
	return hex.EncodeToString(sum[:4])
}

// CheckWritableDir says whether files can be created in dir, without leaving anything behind:
// for a directory that does not exist yet, its nearest existing parent must be writable (reauth
// would create the rest). what names the setting in messages ("backup directory", "audit log").
func CheckWritableDir(dir, what, hint string) error {
	d := dir
	for {
		fi, err := os.Stat(d)
		if err == nil {
			if !fi.IsDir() {
				return Refused(hint, "%s %s: %s is not a directory", what, dir, d)
			}
			break
		}
		if !os.IsNotExist(err) || filepath.Dir(d) == d {
			return Refused(hint, "%s %s: %v", what, dir, err)
		}
		d = filepath.Dir(d)
	}
	f, err := os.CreateTemp(d, ".reauth-probe-*")
	if err != nil {
		return Refused(hint, "%s %s cannot be written: %v", what, dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
