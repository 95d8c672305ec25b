package runbook_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/audit"
	"github.com/reauth/reauth/backup"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
)

// `run` killed (SIGKILL) in the middle of a long purge, then `run --resume --report r.html
// --json`: every backup of the run (the first part, cut short, and part2) is in the HTML report,
// in --json (a digest per backup, the rows of each adding up to the count deleted) and in the
// audit log, with its count and digest; the first part's undo says --accept-truncated.
func TestRunKilledMidPurgeReportsEveryBackup(t *testing.T) {
	pg := testenv.Postgres(t)
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 1, DB: pg.URL, Users: 2, RememberFraction: 1})
	if _, err := pg.SQL.Exec(`INSERT INTO remembermetoken (id, created, token, username)
		SELECT 100000 + g, now() - interval '3 days', md5(g::text), 'user002' FROM generate_series(1, 60000) g`); err != nil {
		t.Fatal(err)
	}
	total := count(t, pg.SQL)
	dir := t.TempDir()
	cfg := writeInventory(t, dir, product{c: c})
	b, _ := os.ReadFile(cfg)
	// Rest 5x each batch's time after it: a purge of many seconds, to be killed in.
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(b), "defaults:\n", "defaults:\n  purge_rest: 5\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := []string{"run", "--config", cfg, "--yes"}
	cmd := exec.CommandContext(ctx, testenv.Binary(t), args...)
	cmd.Env = append(os.Environ(), stateEnv(args)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once some batches have committed, and well before the last.
	for {
		if n := count(t, pg.SQL); n < total-1000 {
			if n == 0 {
				t.Fatal("the purge finished before it could be killed: seed more rows")
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the purge never began")
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	deletedByFirst := total - count(t, pg.SQL)

	html := filepath.Join(dir, "r.html")
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--resume", "--report", html, "--json")
	if code != 0 {
		t.Fatalf("resume exited %d\n%s\n%s", code, stdout, stderr)
	}
	var r struct {
		Deleted  int64 `json:"deleted"`
		Products []struct {
			Backups     []string      `json:"backups"`
			SHA256      []string      `json:"sha256"`
			BackupFiles []backup.Part `json:"backup_files"`
		} `json:"products"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	p := r.Products[0]
	if len(p.Backups) != 2 || len(p.SHA256) != 2 || len(p.BackupFiles) != 2 || p.SHA256[0] == "" || p.SHA256[1] == "" {
		t.Fatalf("--json: backups %v, sha256 %v, files %+v: want 2 of each, every digest known", p.Backups, p.SHA256, p.BackupFiles)
	}
	var rows int64
	for i, f := range p.BackupFiles {
		s, _ := backup.Survey(f.Path)
		if f.Path != p.Backups[i] || f.SHA256 != p.SHA256[i] || f.SHA256 != s.SHA256 || f.Rows != s.Rows || f.Complete != (i == 1) {
			t.Errorf("backup %d in --json %+v; the file holds %+v", i, f, s)
		}
		rows += f.Rows
	}
	if rows < int64(deletedByFirst) || count(t, pg.SQL) != 0 {
		t.Errorf("the backups hold %d rows; the killed run deleted %d, %d left", rows, deletedByFirst, count(t, pg.SQL))
	}
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range p.BackupFiles {
		if !strings.Contains(string(page), f.Path) || !strings.Contains(string(page), f.SHA256) ||
			!strings.Contains(string(page), fmt.Sprintf(`<td class="num">%d</td>`, f.Rows)) {
			t.Errorf("the HTML report does not name backup %d (%s, %d rows, sha256 %s)", i, f.Path, f.Rows, f.SHA256)
		}
	}
	if !strings.Contains(string(page), p.BackupFiles[0].Path+" --accept-truncated") {
		t.Errorf("the HTML's undo of the cut part has no --accept-truncated")
	}
	recorded := auditBackups(t, filepath.Join(dir, "audit.jsonl"))
	for _, f := range p.BackupFiles {
		if recorded[f.Path] != f.SHA256 {
			t.Errorf("the audit log records %s with sha256 %q, want %q", f.Path, recorded[f.Path], f.SHA256)
		}
	}
}

// auditBackups maps each backup file the audit log records with a digest to that digest.
func auditBackups(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	es, err := audit.Read(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range es {
		var file, sum string
		if e.Get("backup", &file) && e.Get("sha256", &sum) && sum != "" {
			out[file] = sum
		}
	}
	return out
}
