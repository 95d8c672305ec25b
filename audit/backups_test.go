package audit

import (
	"path/filepath"
	"testing"
	"time"
)

// A backup's record gathers its lines: encrypted once any says so, the last digest given; the
// exact path wins over a file of the same name elsewhere; an unknown file has no record.
func TestFindBackup(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "audit.jsonl")
	l, err := Open(logPath, "run-1", func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) })
	if err != nil {
		t.Fatal(err)
	}
	part := filepath.Join(dir, "reauth-jira-1.jsonl.gz")
	elsewhere := filepath.Join(dir, "old", "reauth-jira-0.jsonl.gz")
	for _, s := range []struct {
		step   string
		fields map[string]any
	}{
		{"purge_start", map[string]any{"backup": elsewhere, "encrypted": false, "sha256": "ffff"}},
		{"purge_start", map[string]any{"backup": part, "encrypted": true}},
		{"backup_part", map[string]any{"backup": part, "sha256": "", "encrypted": false}},
		{"purge", map[string]any{"backup": part, "sha256": "abcd"}},
		{"purge", map[string]any{"deleted": 0}},
	} {
		if err := l.Step("jira", s.step, "ok", s.fields); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	es, err := ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := FindBackup(es, part)
	if !ok || !r.Encrypted || r.SHA256 != "abcd" || r.RunID != "run-1" || r.Path != part || r.Line != 4 {
		t.Fatalf("record of %s: %+v %v", part, r, ok)
	}
	// A copy under another directory: found by its name.
	r, ok = FindBackup(es, filepath.Join(dir, "copy", "reauth-jira-0.jsonl.gz"))
	if !ok || r.Path != elsewhere || r.SHA256 != "ffff" || r.Encrypted {
		t.Fatalf("record of a copy: %+v %v", r, ok)
	}
	if _, ok := FindBackup(es, filepath.Join(dir, "reauth-jira-2.jsonl.gz")); ok {
		t.Fatal("a file the log never names has a record")
	}
	// A copy of part's name: the record of part, encrypted.
	if r, ok := FindBackup(es, filepath.Join(dir, "copy", "reauth-jira-1.jsonl.gz")); !ok || !r.Encrypted || r.SHA256 != "abcd" {
		t.Fatalf("record of a copy of the encrypted part: %+v %v", r, ok)
	}
}
