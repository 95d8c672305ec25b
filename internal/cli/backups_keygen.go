package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/backup"
)

type keygenOptions struct {
	out, stateDir string
	json          bool
}

// keygenResult is what `backups keygen --json` prints. No secret: the identity stays in its file.
type keygenResult struct {
	Identity      string `json:"identity"`       // the identity file's path (0600)
	Recipient     string `json:"recipient"`      // age1…: what backup_recipients names
	RecipientFile string `json:"recipient_file"` // the recipient alone, a recipients file
}

// newBackupsKeygenCmd is `reauth backups keygen`: an age identity for encrypted backups.
func newBackupsKeygenCmd(streams IO) *cobra.Command {
	var o keygenOptions
	c := &cobra.Command{
		Use:   "keygen [--out FILE] [--json]",
		Short: "Write a new age identity for encrypted backups, and say how to put its recipient in the inventory",
		Long: `keygen writes a new age X25519 identity (the private key, 0600) and, beside it as FILE.pub, its
recipient (the public key, age1…). Name the recipient in the inventory's defaults.backup_recipients:
every backup is then encrypted to it, and restoring one needs --identity FILE.

The identity goes outside reauth's state directory (a default of $XDG_CONFIG_HOME/reauth, else
~/.config/reauth), never into it: whoever copies the state directory must not find the backups'
key beside them. keygen never overwrites a file: backups encrypted to an identity it replaced
could never be restored. Keep a copy of the identity off this host.`,
		Example: `  reauth backups keygen
  reauth backups keygen --out /root/incident/backup-identity.txt --json`,
		Args: needArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error { return runBackupsKeygen(streams, o) },
	}
	c.Flags().StringVar(&o.out, "out", "", "the identity file to write (default $XDG_CONFIG_HOME/reauth/backup-identity.txt, else ~/.config/reauth/backup-identity.txt)")
	c.Flags().StringVar(&o.stateDir, "state-dir", "", "reauth's state directory, which the identity must stay out of (default $XDG_STATE_HOME/reauth, else ~/.local/state/reauth)")
	c.Flags().BoolVar(&o.json, "json", false, "print one JSON object: identity, recipient, recipient_file")
	return c
}

// keygenPath is --out, else reauth's directory in the user's configuration directory.
func keygenPath(streams IO, out string) (string, error) {
	if out == "" {
		switch cfg, home := streams.getenv("XDG_CONFIG_HOME"), streams.getenv("HOME"); {
		case filepath.IsAbs(cfg):
			out = filepath.Join(cfg, "reauth", "backup-identity.txt")
		case filepath.IsAbs(home):
			out = filepath.Join(home, ".config", "reauth", "backup-identity.txt")
		default:
			return "", reauth.Usage("pass --out FILE", "no place for the identity: neither XDG_CONFIG_HOME nor HOME is set to an absolute path")
		}
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return "", reauth.Usage("pass --out as an absolute path", "--out %q: %v", out, err)
	}
	return abs, nil
}

func runBackupsKeygen(streams IO, o keygenOptions) error {
	path, err := keygenPath(streams, o.out)
	if err != nil {
		return err
	}
	if sd, err := reauth.ResolveStateDir(o.stateDir, streams.getenv); err == nil && within(path, sd.Path) {
		return reauth.Refused("pass --out FILE outside the state directory (the default is ~/.config/reauth/backup-identity.txt), ideally on another host's vault too",
			"identity %s would be inside reauth's state directory %s, beside the backups it decrypts", path, sd.Path)
	}
	pub := path + ".pub"
	for _, p := range []string{path, pub} {
		if _, err := os.Lstat(p); err == nil {
			return reauth.Refused("pass --out NEWFILE; use the existing identity as it is, or move it away yourself once no backup needs it",
				"%s exists: keygen never overwrites a key (backups encrypted to the old identity could no longer be restored)", p)
		}
	}
	ident, rcpt, err := backup.NewIdentity(streams.now())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return reauth.Refused("pass --out FILE in a directory you can write to", "create the identity's directory: %v", err)
	}
	if err := writeNewFile(path, ident, 0o600); err != nil {
		return err
	}
	if err := writeNewFile(pub, []byte(rcpt+"\n"), 0o644); err != nil {
		return err
	}
	res := keygenResult{Identity: path, Recipient: rcpt, RecipientFile: pub}
	if o.json {
		return writeJSON(streams.Out, res)
	}
	printKeygen(streams, res)
	return nil
}

// within says whether path is dir or below it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// writeNewFile creates path (never replacing a file), writes b and syncs it.
func writeNewFile(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return reauth.Refused("pass --out FILE naming a new file in a directory you can write to", "create %s: %v", path, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return reauth.Failed("check the disk and try again", "write %s: %v", path, err)
	}
	return nil
}

func printKeygen(streams IO, r keygenResult) {
	q := reauth.ShellQuote
	fmt.Fprintf(streams.Out, `Wrote the age identity %s (0600): it decrypts every backup encrypted to it.
Its recipient (public key), also in %s:
  %s

Put the recipient in the inventory (reauth.yaml), so that every backup is encrypted to it:
  defaults:
    backup_recipients:
      - %s
    require_encrypted_backups: true   # optional: refuse a run whose backups would be in clear

Restoring a backup then needs the identity:  reauth restore TARGET FILE --identity %s
Keep a copy of the identity off this host (the incident vault, a password manager): without it the
encrypted backups cannot be restored.
`, r.Identity, r.RecipientFile, r.Recipient, r.Recipient, q(r.Identity))
}
