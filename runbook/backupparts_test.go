package runbook

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth/audit"
	"github.com/reauth/reauth/backup"
)

// A resumed companion purge (Crowd's second token table) surveys the parts the stopped run left,
// as the token table's does: digests aligned with the files, the count the sum of their rows, and
// each part in the audit log, named as the companion's.
func TestSurveyCompanionParts(t *testing.T) {
	dir := t.TempDir()
	m := backup.Manifest{Product: "crowd", Table: "cwd_remember_me_token", TableName: "cwd_remember_me_token", IDColumn: "id",
		Columns: []backup.Column{{Name: "id", SQLType: "bigint", Kind: backup.KindInt}}, Started: time.Now()}
	write := func(name string, rows int, finish bool) (string, string) {
		path := filepath.Join(dir, name)
		w, err := backup.Create(path, m)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= rows; i++ {
			if err := w.Append([]any{int64(i)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
		if !finish {
			return path, "" // as SIGKILL leaves it: no trailer
		}
		s, err := w.Close()
		if err != nil {
			t.Fatal(err)
		}
		return path, s.SHA256
	}
	cut, _ := write("part1", 3, false)
	cutSum, err := backup.Survey(cut)
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "audit.jsonl")
	alog, err := audit.Open(logPath, "run-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	j := &Journal{Tables: []TableState{{Table: "cwd_remember_me_token", Backups: []string{cut}}}}
	c := &j.Tables[0]
	u := &unit{name: "crowd", o: &Options{Err: io.Discard}, journal: j, audit: alog}
	u.surveyParts(c)
	alog.Close()
	if len(c.SHA256) != 1 || c.SHA256[0] != cutSum.SHA256 || c.Deleted != 3 ||
		len(c.BackupFiles) != 1 || c.BackupFiles[0].Complete || c.BackupFiles[0].Rows != 3 {
		t.Fatalf("journal after the survey: sha %v deleted %d files %+v", c.SHA256, c.Deleted, c.BackupFiles)
	}
	es, err := audit.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := audit.FindBackup(es, cut)
	if !ok || r.SHA256 != cutSum.SHA256 || r.Step != StepBackupPart {
		t.Fatalf("audit record of the cut part: %+v %v", r, ok)
	}
	var table string
	if !es[0].Get("table", &table) || table != "cwd_remember_me_token" {
		t.Fatalf("the part's audit line does not name the companion table: %v", es[0].Fields)
	}
}

// The summary names each backup with its rows and digest, and the undo of a part cut short says
// --accept-truncated.
func TestPrintBackupLine(t *testing.T) {
	p := ProductReport{Product: "jira", Backups: []string{"/b/p1", "/b/p2"}, SHA256: []string{"aa11", "bb22"},
		BackupFiles: []backup.Part{{Path: "/b/p1", Rows: 6000, SHA256: "aa11"}, {Path: "/b/p2", Rows: 3000, SHA256: "bb22", Complete: true}}}
	var b strings.Builder
	for i, f := range p.Backups {
		printBackupLine(&b, p, i, f)
	}
	want := "   backup  /b/p1, 6000 row(s), cut short when its run stopped, sha256 aa11 (undo: reauth restore --product jira … --accept-truncated /b/p1)\n" +
		"   backup  /b/p2, 3000 row(s), sha256 bb22 (undo: reauth restore --product jira … /b/p2)\n"
	if b.String() != want {
		t.Fatalf("summary:\n%s\nwant:\n%s", b.String(), want)
	}
}

// An encrypted part cut short has no known count: the summary says the total leaves it out.
func TestPrintUncounted(t *testing.T) {
	var b strings.Builder
	printUncounted(&b, ProductReport{BackupFiles: []backup.Part{{Path: "/b/p1", Rows: -1, Encrypted: true}, {Path: "/b/p2", Rows: 5, Complete: true}}})
	if got := b.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, "leaves out the rows of /b/p1") {
		t.Fatalf("summary note: %q", got)
	}
}
