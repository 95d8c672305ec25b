package audit

import (
	"os"
	"path/filepath"
)

// BackupRecord is what an audit log says of one backup file: the run that wrote it, whether it
// was encrypted, and the digest of its manifest and rows (the trailer's; "" when no line gave it:
// a purge that stopped and was never resumed).
type BackupRecord struct {
	Path      string // as the log spells it
	RunID     string
	Step      string
	Line      int // the last line naming the file
	SHA256    string
	Encrypted bool
}

// FindBackup returns the record of the backup file path among entries: every line whose "backup"
// field names it (purge_start, purge, backup_part, revoke-purge, a companion table's purge). The
// same path (absolute, cleaned) is preferred; else a file of the same name, which is a copy moved
// elsewhere (backup names hold the product and the time to the millisecond). Any line saying
// encrypted makes the record encrypted: that is the claim a clear file must not pass.
func FindBackup(entries []Entry, path string) (BackupRecord, bool) {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = filepath.Clean(path)
	}
	byPath := map[string]*BackupRecord{}
	var last *BackupRecord // of the lines naming a file of the same name
	anyEncrypted := false
	for _, e := range entries {
		var file string
		if !e.Get("backup", &file) || file == "" || filepath.Base(file) != filepath.Base(abs) {
			continue
		}
		key := filepath.Clean(file)
		rec, ok := byPath[key]
		if !ok {
			rec = &BackupRecord{}
			byPath[key] = rec
		}
		rec.Path, rec.RunID, rec.Step, rec.Line = file, e.RunID, e.Step, e.Line
		var enc bool
		if e.Get("encrypted", &enc) && enc {
			rec.Encrypted, anyEncrypted = true, true
		}
		var sum string
		if e.Get("sha256", &sum) && sum != "" {
			rec.SHA256 = sum
		}
		last = rec
	}
	if rec, ok := byPath[abs]; ok {
		return *rec, true
	}
	if last == nil {
		return BackupRecord{}, false
	}
	// Several files of this name (unlikely: names hold the time to the millisecond): the last
	// one's digest, and encrypted if any of them was.
	r := *last
	r.Encrypted = r.Encrypted || anyEncrypted
	return r, true
}

// ReadFile reads every line of the audit log at path (see Read).
func ReadFile(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f)
}
