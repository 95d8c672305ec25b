package backup

import (
	"os"
	"path/filepath"
	"testing"
)

// Survey counts and digests a complete file and a part cut short (a killed purge) alike, without
// an identity; an encrypted file is surveyed as unknown, not as empty.
func TestSurvey(t *testing.T) {
	dir := t.TempDir()
	full, cut, enc := filepath.Join(dir, "full"), filepath.Join(dir, "cut"), filepath.Join(dir, "enc")
	s := writeFile(t, full, testRows(), true)
	writeFile(t, cut, testRows(), false)
	writeEncrypted(t, enc, ageKey(t), false)

	p, err := Survey(full)
	if err != nil || !p.Complete || p.Rows != 3 || p.SHA256 != s.SHA256 || p.Encrypted {
		t.Fatalf("complete file: %+v %v (written: %+v)", p, err, s)
	}
	p, err = Survey(cut)
	if err != nil || p.Complete || p.Rows != 3 || p.SHA256 != s.SHA256 {
		t.Fatalf("part cut short: %+v %v, want 3 rows, the same digest as the complete file's rows", p, err)
	}
	p, err = Survey(enc)
	if err != nil || !p.Encrypted || p.Rows != -1 || p.SHA256 != "" {
		t.Fatalf("encrypted: %+v %v, want rows unknown (-1)", p, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "junk"), []byte("not a backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Survey(filepath.Join(dir, "junk")); err == nil {
		t.Fatal("a file that is not a backup was surveyed")
	}
}
