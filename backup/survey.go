package backup

import (
	"errors"
	"fmt"
)

// Part is what one backup file holds, as found on disk.
type Part struct {
	Path string `json:"path"`
	// Rows is how many rows it holds (in complete batches when it has no trailer); -1 when not
	// known: an encrypted file read without an identity.
	Rows int64 `json:"rows"`
	// SHA256 is the digest of its manifest and rows as the trailer records it (of the complete
	// batches when it has no trailer); "" when not known.
	SHA256 string `json:"sha256"`
	// Complete: it has its trailer. A part without one was cut short when its purge stopped
	// (killed, or its connection lost): restore needs --accept-truncated for it.
	Complete  bool `json:"complete"`
	Encrypted bool `json:"encrypted"`
}

// Survey reads a backup file whole without an identity: its rows and digest, and whether it has
// its trailer. A clear file without trailer is surveyed, not refused: it is the part of a purge
// that stopped, every complete batch of which is restorable. An encrypted file's rows cannot be
// read without a key: Rows is -1 and SHA256 "". A file that is not a backup, or whose batches do
// not check, is an error.
func Survey(path string) (Part, error) {
	r, err := Open(path)
	if err != nil {
		return Part{Path: path, Rows: -1}, err
	}
	m := r.Manifest()
	r.Close()
	if m.Encryption != "" {
		return Part{Path: path, Rows: -1, Encrypted: true}, nil
	}
	s, err := Verify(path)
	p := Part{Path: path, Rows: s.Rows, SHA256: s.SHA256, Complete: err == nil}
	if err != nil && !errors.Is(err, ErrTruncated) {
		return Part{Path: path, Rows: -1}, fmt.Errorf("survey backup %s: %w", path, err)
	}
	return p, nil
}
