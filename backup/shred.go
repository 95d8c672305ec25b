package backup

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ShredNote is said by every shred: what an overwrite can and cannot promise.
const ShredNote = "overwriting is best effort: on SSDs (wear levelling), copy-on-write filesystems (btrfs, ZFS, APFS), " +
	"snapshots, and backups of this disk, the old blocks may survive; encrypted backups are what protects the tokens"

// Shred overwrites a backup file with random bytes, fsyncs it, and removes it. It refuses a file
// that is not a reauth backup (its manifest must read), so that a mistyped path destroys nothing
// else.
func Shred(path string) error {
	r, err := Open(path)
	if err != nil {
		return fmt.Errorf("not shredded: %w", err)
	}
	r.Close()
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("not shredded: %s is not a regular file", path)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, werr := io.CopyN(f, rand.Reader, fi.Size())
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("overwrite %s: %w (the file is left in place)", path, werr)
	}
	if err := os.Remove(path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
