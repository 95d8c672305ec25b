package aescipher

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/reauth/reauth/internal/boundedfile"
)

// Size limits for the files: a real key file is about 140 bytes, a sealed object about 250 plus
// the password's length. The limits keep a wrong path (a log, a disk image) from being read whole.
const (
	maxKeyFile    = 16 << 10
	maxSealedFile = 512 << 10
)

// readLimited reads a key or sealed-object file, with errors that name the path, where it came
// from (src), and what to do. A pipe or device is refused, and at most limit bytes are read.
func readLimited(path, src, what string, limit int64) ([]byte, error) {
	b, err := boundedfile.Read(path, limit)
	switch {
	case err == nil:
		return b, nil
	case errors.Is(err, boundedfile.ErrDirectory):
		return nil, fmt.Errorf("%s file %q (from %s) is a directory: give the path of the file itself", what, path, src)
	case errors.Is(err, boundedfile.ErrNotRegular):
		return nil, fmt.Errorf("%s file (from %s): %w", what, src, err)
	case errors.Is(err, boundedfile.ErrTooLarge):
		return nil, fmt.Errorf("%s file %q (from %s) is too large to be the one the encryption tool wrote (over %d bytes): check the path", what, path, src, limit)
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission):
		return nil, fileError(path, src, what, err)
	}
	return nil, fmt.Errorf("read %s file %q (from %s): %w", what, path, src, err)
}

// fileError explains why a file could not be opened: missing (and, for a relative path, against
// which directory it was looked up) or not readable (with its mode and owner, and who we run as).
func fileError(path, src, what string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		msg := fmt.Sprintf("%s file %q (from %s) does not exist", what, path, src)
		if !filepath.IsAbs(path) {
			wd, _ := os.Getwd()
			msg += fmt.Sprintf("; a relative path is looked up in reauth's working directory %q, while the product looks it up in its own (usually <install>/bin): put an absolute path in the password field", wd)
		}
		return errorf(fs.ErrNotExist, "%s", msg)
	case errors.Is(err, fs.ErrPermission):
		return errorf(fs.ErrPermission, "%s file %q (from %s) is not readable: permission denied (%s; reauth runs as %s): run reauth as the product's user or root, or grant it read access",
			what, path, src, describeOwner(path), currentUser())
	default:
		return fmt.Errorf("open %s file %q (from %s): %w", what, path, src, err)
	}
}
