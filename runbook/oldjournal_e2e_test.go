package runbook_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
)

// TestResumeJournalOfTheReleaseBeforeTables: a Crowd run that the release before Tables left in
// phase "started" (its journal, testdata/journal-v1-crowd-started.json, saved by that release's
// code, with the cut-offs set to this sandbox's ids) resumes: the companion table is purged up to
// the journal's companion_cutoff_id, not to the highest id now, under the run id it continues.
func TestResumeJournalOfTheReleaseBeforeTables(t *testing.T) {
	pg := testenv.Postgres(t)
	crowd := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Crowd, Nodes: 1, DB: pg.URL, Users: 3, RememberFraction: 1})
	var tokenMax, rememberMax, remember int64
	if err := pg.SQL.QueryRow("SELECT MAX(id) FROM cwd_token").Scan(&tokenMax); err != nil {
		t.Fatal(err)
	}
	if err := pg.SQL.QueryRow("SELECT MAX(id), COUNT(*) FROM cwd_remember_me_token").Scan(&rememberMax, &remember); err != nil {
		t.Fatal(err)
	}
	if remember < 2 {
		t.Fatalf("the sandbox Crowd holds %d remember-me row(s): want 2 or more", remember)
	}
	cfg := writeInventory(t, t.TempDir(), product{c: crowd})
	b, err := os.ReadFile(filepath.Join("testdata", "journal-v1-crowd-started.json"))
	if err != nil {
		t.Fatal(err)
	}
	var j map[string]any // the old format's own keys, only the ids changed
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	if _, old := j["companion_cutoff_id"]; !old {
		t.Fatalf("testdata is not a journal of the release before Tables: %s", b)
	}
	j["cutoff_id"], j["companion_cutoff_id"] = tokenMax, rememberMax-1 // the newest remember-me row came after the cut-off
	jp := stateDir(cfg).RunJournal(cfg, "crowd")
	if err := os.MkdirAll(filepath.Dir(jp), 0o700); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(j)
	if err := os.WriteFile(jp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--resume", "--json")
	var r struct {
		RunID    string `json:"run_id"`
		Products []struct {
			Companion *struct {
				CutoffID int64 `json:"cutoff_id"`
				Deleted  int64 `json:"deleted"`
			} `json:"companion"`
		} `json:"products"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil || len(r.Products) != 1 {
		t.Fatalf("resume exited %d, --json %v\n%s\n%s", code, err, stdout, stderr)
	}
	c := r.Products[0].Companion
	if r.RunID != j["run_id"] || c == nil || c.CutoffID != rememberMax-1 || c.Deleted != remember-1 {
		t.Fatalf("resume (exit %d): run %q companion %+v; want run %v, cut-off %d, %d deleted\n%s", code, r.RunID, c, j["run_id"], rememberMax-1, remember-1, stderr)
	}
	var left, newest int64
	if err := pg.SQL.QueryRow("SELECT COUNT(*), MAX(id) FROM cwd_remember_me_token").Scan(&left, &newest); err != nil {
		t.Fatal(err)
	}
	if left != 1 || newest != rememberMax {
		t.Errorf("remember-me rows left: %d (newest id %d); want only id %d, issued after the cut-off", left, newest, rememberMax)
	}
}
