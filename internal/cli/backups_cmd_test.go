package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/reauth/reauth/backup"
)

func writeBackup(t *testing.T, dir, name string, started time.Time, rcpts ...backup.Recipient) string {
	t.Helper()
	path := filepath.Join(dir, name)
	m := backup.Manifest{Product: "jira", Table: "remembermetoken", TableName: "remembermetoken", IDColumn: "id",
		Columns:  []backup.Column{{Name: "id", SQLType: "numeric", Kind: backup.KindInt}, {Name: "token", SQLType: "varchar", Kind: backup.KindString}},
		Database: backup.Database{Engine: "postgres", Host: "db", Port: 5432, Name: "jira"}, CutoffID: 9, Started: started}
	w, err := backup.Create(path, m, rcpts...)
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(1); i <= 3; i++ {
		w.Append([]any{i, "secret-token"})
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBackupsListAndShred(t *testing.T) {
	env := map[string]string{}
	dir := filepath.Join(testStateHome(t), "reauth", "backups")
	os.MkdirAll(dir, 0o700)
	id, _ := age.GenerateX25519Identity()
	now := time.Now().UTC()
	clear := writeBackup(t, dir, "reauth-jira-new.jsonl.gz", now.Add(-time.Hour))
	enc := writeBackup(t, dir, "reauth-jira-enc.jsonl.gz", now.Add(-2*time.Hour), id.Recipient())
	old := writeBackup(t, dir, "reauth-jira-old.jsonl.gz", now.Add(-20*24*time.Hour))
	notes := filepath.Join(dir, "reauth-notes.txt")
	os.WriteFile(notes, []byte("not a backup"), 0o600)

	code, out, errs := storeCLI(t, env, false, "", "backups", "list", "--json")
	var l struct {
		Backups []struct {
			Path      string `json:"path"`
			Rows      *int64 `json:"rows"`
			Encrypted bool   `json:"encrypted"`
			Verified  bool   `json:"verified"`
		} `json:"backups"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &l) != nil || len(l.Backups) != 3 {
		t.Fatalf("list: exit %d %s\n%s", code, out, errs)
	}
	for _, b := range l.Backups {
		if b.Encrypted != (b.Path == enc) || b.Verified == (b.Path == enc) || (b.Rows == nil) != (b.Path == enc) {
			t.Errorf("list entry %+v", b)
		}
	}
	keyFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600)
	code, out, _ = storeCLI(t, env, false, "", "backups", "list", "--identity", keyFile)
	if code != 0 || strings.Count(out, " verified") != 3 || !strings.Contains(out, "CLEAR") {
		t.Fatalf("list --identity: exit %d\n%s", code, out)
	}

	// No terminal, no --yes: refused, nothing removed.
	if code, _, _ := storeCLI(t, env, false, "", "backups", "shred", "--older-than", "14d"); code != 4 {
		t.Fatalf("shred without confirmation: exit %d", code)
	}
	code, out, errs = storeCLI(t, env, false, "", "backups", "shred", "--older-than", "14d", "--yes")
	if code != 0 || !strings.Contains(out, "shredded "+old) || !strings.Contains(errs, "best effort") {
		t.Fatalf("shred --older-than: exit %d\n%s\n%s", code, out, errs)
	}
	for _, p := range []string{clear, enc, notes} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s was removed: %v", p, err)
		}
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatalf("old backup still there: %v", err)
	}
	// A file that is not a backup is never shredded.
	if code, _, _ := storeCLI(t, env, false, "", "backups", "shred", notes, "--yes"); code == 0 {
		t.Fatal("shred of a file that is not a backup succeeded")
	}
	if b, _ := os.ReadFile(notes); string(b) != "not a backup" {
		t.Fatal("a file that is not a backup was overwritten")
	}
	if code, _, errs := storeCLI(t, env, false, "", "backups", "shred", clear, enc, "--yes"); code != 0 {
		t.Fatalf("shred FILE...: exit %d\n%s", code, errs)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.gz")); len(left) != 0 {
		t.Fatalf("left: %v", left)
	}
}
