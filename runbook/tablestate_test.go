package runbook

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/reauth/reauth/backup"
)

// Journals written by the release before Tables (testdata/journal-v1-*.json, saved by that
// release's code) read into the token table's state and one further table's, which the unit
// names when it opens Crowd's companion table; saved again, they keep their state under tables.
func TestJournalOfTheReleaseBeforeTables(t *testing.T) {
	cases := []struct {
		file      string
		main      TableState
		companion TableState
	}{
		{"journal-v1-crowd-started.json", TableState{CutoffID: 1000}, TableState{Table: "cwd_remember_me_token", CutoffID: 2000}},
		{"journal-v1-crowd-purging.json", TableState{CutoffID: 1000}, TableState{Table: "cwd_remember_me_token", CutoffID: 2000, Deleted: 7,
			Backups: []string{"/b/reauth-crowd-x-cwd_remember_me_token.jsonl.gz", "/b/reauth-crowd-y-cwd_remember_me_token.jsonl.gz"},
			SHA256:  []string{"", "abc"}, BackupFiles: []backup.Part{{Path: "/b/reauth-crowd-y-cwd_remember_me_token.jsonl.gz", Rows: 7, SHA256: "abc", Complete: true}}}},
		{"journal-v1-crowd-companion-done.json", TableState{CutoffID: 1000, Deleted: 3, Backups: []string{"/b/reauth-crowd-z.jsonl.gz"}, SHA256: []string{""}},
			TableState{Table: "cwd_remember_me_token", CutoffID: 2000, Done: true, Deleted: 4, Backups: []string{"/b/reauth-crowd-x-cwd_remember_me_token.jsonl.gz"},
				SHA256: []string{"def"}, BackupFiles: []backup.Part{{Path: "/b/reauth-crowd-x-cwd_remember_me_token.jsonl.gz", Rows: 4, SHA256: "def", Complete: true}}}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			j, ok, err := loadJournal(filepath.Join("testdata", c.file))
			if err != nil || !ok {
				t.Fatalf("load: %v %v", ok, err)
			}
			if j.RunID != "run-20261201T100000.000Z" || j.Product != "crowd" {
				t.Errorf("run %q product %q", j.RunID, j.Product)
			}
			if !reflect.DeepEqual(j.TableState, c.main) {
				t.Errorf("token table: %+v, want %+v", j.TableState, c.main)
			}
			got := j.further("cwd_remember_me_token")
			if !reflect.DeepEqual(*got, c.companion) || len(j.Tables) != 1 {
				t.Errorf("companion: %+v (%d tables), want %+v", *got, len(j.Tables), c.companion)
			}
			// Saved by this release and read again: the same states, under "tables".
			j.path = filepath.Join(t.TempDir(), "journal.json")
			if err := j.save(j.Started); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(j.path)
			var raw map[string]any
			if err := json.Unmarshal(b, &raw); err != nil {
				t.Fatal(err)
			}
			if _, old := raw["companion_cutoff_id"]; old || raw["tables"] == nil {
				t.Errorf("saved again: %s", b)
			}
			k, _, err := loadJournal(j.path)
			if err != nil || !reflect.DeepEqual(k.TableState, c.main) || !reflect.DeepEqual(k.Tables, []TableState{c.companion}) {
				t.Errorf("read again (%v): %+v %+v", err, k.TableState, k.Tables)
			}
		})
	}
}

// A journal with no further table (every product but Crowd) gains no Tables entry.
func TestJournalWithoutFurtherTables(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.json")
	if err := os.WriteFile(path, []byte(`{"run_id":"r","product":"jira","phase":"purging","cutoff_id":5,"deleted":2,"backups":["/b/x"],"sha256":[""]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	j, _, err := loadJournal(path)
	if err != nil || len(j.Tables) != 0 || j.CutoffID != 5 || j.Deleted != 2 || len(j.Backups) != 1 {
		t.Fatalf("%v %+v", err, j)
	}
}
