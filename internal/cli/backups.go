package cli

import (
	"fmt"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/backup"
	"github.com/reauth/reauth/internal/termsafe"
)

// backupJSON is a backup's manifest as --json shows it (no identity is needed to read it).
type backupJSON struct {
	Path      string          `json:"path"`
	Product   string          `json:"product"`
	Table     string          `json:"table"`
	Database  backup.Database `json:"database"`
	CutoffID  int64           `json:"cutoff_id"`
	Filters   backup.Filters  `json:"filters"`
	Started   string          `json:"started"`
	Version   string          `json:"reauth_version"`
	Format    int             `json:"format"`
	Encrypted bool            `json:"encrypted"`
}

func manifestJSON(path string, m backup.Manifest) backupJSON {
	return backupJSON{Path: path, Product: m.Product, Table: m.Table, Database: m.Database, CutoffID: m.CutoffID, Filters: m.Filters,
		Started: m.Started.UTC().Format("2006-01-02T15:04:05Z"), Version: m.ReauthVersion, Format: m.Format, Encrypted: m.Encryption != ""}
}

// loadIdentities reads --identity for an encrypted backup. A passphrase-protected SSH key asks
// for the passphrase on the terminal, only when a batch needs it; there is no flag for it.
func loadIdentities(streams IO, path string, m backup.Manifest) ([]backup.Identity, error) {
	if path == "" {
		return nil, nil
	}
	if m.Encryption == "" {
		return nil, nil // refused before, by backupPolicy.refuseClear
	}
	b, err := backup.ReadKeyFile(path)
	if err != nil {
		return nil, reauth.Refused("give --identity the age identity file or the SSH private key of one of the backup's recipients",
			"--identity: %v; nothing was changed", err)
	}
	var ask func() ([]byte, error)
	if streams.ReadPassword != nil {
		ask = func() ([]byte, error) {
			p, err := streams.ReadPassword("passphrase for " + path + ": ")
			return []byte(p), err
		}
	}
	ids, err := backup.ParseIdentities(b, ask)
	if err != nil {
		return nil, reauth.Refused("give --identity the age identity file (AGE-SECRET-KEY-1…) or the SSH private key (ed25519 or RSA) of one of the backup's recipients",
			"--identity %s: %v; nothing was changed", path, err)
	}
	return ids, nil
}

// parseRecipients reads --backup-recipient values: each an age public key, an SSH public key, or
// the path of a recipients file.
func parseRecipients(values []string) ([]backup.Recipient, error) {
	rs, err := backup.ParseRecipientValues(values, nil)
	if err != nil {
		return nil, reauth.Usage("give an age public key (age1…), an ssh-ed25519 or ssh-rsa public key, or a file of them, one a line",
			"--backup-recipient: %v", err)
	}
	return rs, nil
}

// runInspectBackup is `inspect --backup FILE`: a backup's manifest, read without a database or an
// identity (an encrypted backup's manifest is clear, and authenticated when its rows are read).
func runInspectBackup(streams IO, path string, asJSON bool) error {
	m, err := readManifest(path)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(streams.Out, manifestJSON(path, m))
	}
	describeBackup(streams.Out, path, m)
	if f := m.Filters; f.Before != nil || len(f.Users) > 0 || len(f.ExcludeUsers) > 0 {
		fmt.Fprintf(streams.Out, "filters: users %v, excluded %v", termsafe.Fields(f.Users), termsafe.Fields(f.ExcludeUsers))
		if f.Before != nil {
			fmt.Fprintf(streams.Out, ", before %s", f.Before.UTC().Format("2006-01-02T15:04:05Z"))
		}
		fmt.Fprintln(streams.Out)
	}
	return nil
}
