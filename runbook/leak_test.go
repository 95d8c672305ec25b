package runbook_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth/backup"
)

// backupTokenValues reads every token value (and Bitbucket series) the run's backups hold: the users'
// tokens the purge deleted, among them the sampled ones and the minted proof token.
func backupTokenValues(t *testing.T, backups []string) []string {
	t.Helper()
	var out []string
	for _, path := range backups {
		r, err := backup.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		m := r.Manifest()
		for {
			row, err := r.Next()
			if err != nil || row == nil {
				break
			}
			for i, c := range m.Columns {
				if n := strings.ToLower(c.Name); n == "token" || n == "series" {
					if v, ok := row[i].(string); ok && len(v) >= 16 {
						out = append(out, v)
					}
				}
			}
		}
		r.Close()
	}
	return out
}

// assertNoTokenLeak greps the run's outputs and every file under dirs (but the backups
// themselves, which must hold the rows) for every token value.
func assertNoTokenLeak(t *testing.T, backups []string, outputs map[string]string, dirs ...string) {
	t.Helper()
	values := backupTokenValues(t, backups)
	if len(values) == 0 {
		t.Fatal("no token values in the backups: the leak check would prove nothing")
	}
	isBackup := map[string]bool{}
	for _, b := range backups {
		isBackup[filepath.Clean(b)] = true
	}
	files := 0
	for _, dir := range dirs {
		_ = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() || isBackup[filepath.Clean(path)] || strings.HasSuffix(path, ".db") ||
				strings.HasSuffix(path, ".db-wal") || strings.HasSuffix(path, ".cookies") {
				return nil // the backups, the sandbox's own database and its browsers' jars hold tokens by design
			}
			b, rerr := os.ReadFile(path)
			if rerr != nil {
				return nil
			}
			files++
			outputs[path] = string(b)
			return nil
		})
	}
	for name, text := range outputs {
		for _, v := range values {
			if strings.Contains(text, v) {
				t.Errorf("a token value leaked into %s", name)
				break
			}
		}
	}
	t.Logf("checked %d token values against %d outputs (%d files)", len(values), len(outputs), files)
}
