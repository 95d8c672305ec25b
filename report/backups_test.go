package report

import (
	"path/filepath"
	"strings"
	"testing"
)

// A run killed (SIGKILL) in its purge leaves only purge_start for its first part; the run that
// resumes it records that part (backup_part: rows, digest, cut short) and writes part2. The report
// lists both files with their rows and digests, counts both, and its undo restores both, the first
// with --accept-truncated.
func TestReportResumedPurgeNamesEveryPart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	f := newFakeRun(t, path, "run-k")
	f.at(0, "", "run", "started", map[string]any{"products": []string{"jira"}})
	f.at(10, "jira", "plan", "ok", map[string]any{"name": "Jira", "status": "planned", "restore_target": "--product jira --home /srv/jira"})
	f.at(10, "jira", "lock", "ok", nil)
	f.at(10, "jira", "cutoff", "ok", map[string]any{"cutoff_id": 9000, "to_delete": 9000, "to_keep": 0})
	part1, part2 := "/b/reauth-jira-1.jsonl.gz", "/b/reauth-jira-1-part2.jsonl.gz"
	f.at(10, "jira", "purge_start", "ok", map[string]any{"backup": part1, "encrypted": false})
	// SIGKILL: nothing more from the first process. The resumed run (same run id):
	f.at(5000, "", "run", "started", map[string]any{"products": []string{"jira"}, "resume": true})
	f.at(10, "jira", "resume", "ok", map[string]any{"phase": "purging"})
	f.at(10, "jira", "backup_part", "cut short", map[string]any{"backup": part1, "rows": 6000, "sha256": "aaaa1111", "complete": false, "encrypted": false})
	f.at(10, "jira", "purge_start", "ok", map[string]any{"backup": part2, "encrypted": false})
	f.at(200, "jira", "purge", "ok", map[string]any{"deleted": 3000, "kept": 0, "backup": part2, "sha256": "bbbb2222"})
	f.verify(false)
	f.at(5, "", "run", "done", map[string]any{"exit_code": 0, "deleted": 9000})

	r, err := Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	p := r.Products[0]
	if len(p.Backups) != 2 || p.Deleted != 9000 {
		t.Fatalf("backups %+v, deleted %d; want both parts and 9000", p.Backups, p.Deleted)
	}
	b1, b2 := p.Backups[0], p.Backups[1]
	if b1.File != part1 || b1.Rows != 6000 || b1.SHA256 != "aaaa1111" || !b1.CutShort ||
		b1.Restore != "reauth restore --product jira --home /srv/jira "+part1+" --accept-truncated" {
		t.Errorf("part 1: %+v", b1)
	}
	if b2.File != part2 || b2.Rows != 3000 || b2.SHA256 != "bbbb2222" || b2.CutShort ||
		b2.Restore != "reauth restore --product jira --home /srv/jira "+part2 {
		t.Errorf("part 2: %+v", b2)
	}
	html, md := render(t, r)
	for _, want := range []string{part1, part2, "aaaa1111", "bbbb2222", ">6000<", ">3000<", part1 + " --accept-truncated"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	for _, want := range []string{"| 6000 |", "| 3000 |", "`aaaa1111`", "`bbbb2222`", part1 + " --accept-truncated"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
}

// A run killed in its purge and not resumed: the report still names the file it was writing,
// its rows not known, never as a backup that does not exist or as nothing deleted without a file.
func TestReportKilledPurgeNamesItsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	f := newFakeRun(t, path, "run-k")
	f.at(0, "", "run", "started", map[string]any{"products": []string{"jira"}})
	f.at(10, "jira", "plan", "ok", map[string]any{"name": "Jira", "status": "planned"})
	f.at(10, "jira", "lock", "ok", nil)
	f.at(10, "jira", "purge_start", "ok", map[string]any{"backup": "/b/reauth-jira-1.jsonl.gz", "encrypted": true})
	r, err := Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	b := r.Products[0].Backups
	if len(b) != 1 || b[0].Rows != -1 || !b[0].CutShort || !b[0].Encrypted || !strings.Contains(b[0].Restore, "--accept-truncated") {
		t.Fatalf("backups %+v", b)
	}
	html, _ := render(t, r)
	if !strings.Contains(html, ">not known<") {
		t.Errorf("the rows of the killed part are not said to be unknown")
	}
}
