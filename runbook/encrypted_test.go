package runbook_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"database/sql"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/backup"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
)

// An encrypted run: backups go to the state directory, encrypted to the inventory's recipient;
// afterwards no token value is in clear anywhere on disk (state directory, backups, journal,
// audit log, temp files), and restore --identity puts every row back.
func TestEncryptedRunLeavesNoTokenInClear(t *testing.T) {
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 1, Users: 6, RememberFraction: 1})
	db, err := sql.Open("sqlite", strings.TrimPrefix(c.DBURL(), "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tokens := tokenValues(t, db)
	if len(tokens) < 6 {
		t.Fatalf("%d tokens seeded", len(tokens))
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := writeInventory(t, dir, product{c: c})
	inv, _ := os.ReadFile(cfg)
	inv = bytes.Replace(inv, []byte("  backup_dir: "+dir+"\n"), []byte("  backup_recipients: ["+id.Recipient().String()+"]\n  require_encrypted_backups: true\n"), 1)
	if err := os.WriteFile(cfg, inv, 0o600); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	os.Mkdir(tmp, 0o700)
	stdout, stderr, code := reauthCmd(t, []string{"TMPDIR=" + tmp}, "run", "--config", cfg, "--yes", "--json")
	if code != 0 {
		t.Fatalf("run exited %d\n%s\n%s", code, stdout, stderr)
	}
	var rep struct {
		Deleted  int64 `json:"deleted"`
		Products []struct {
			Backups []string `json:"backups"`
			Backup  struct {
				Encrypted bool `json:"encrypted"`
			} `json:"backup"`
		} `json:"products"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || len(rep.Products) != 1 || len(rep.Products[0].Backups) != 1 {
		t.Fatalf("report: %v\n%s", err, stdout)
	}
	p := rep.Products[0]
	if !p.Backup.Encrypted || rep.Deleted != int64(len(tokens)) {
		t.Fatalf("backup.encrypted %v, deleted %d of %d", p.Backup.Encrypted, rep.Deleted, len(tokens))
	}
	state := stateDir(cfg)
	if rel, err := filepath.Rel(state.Backups(), p.Backups[0]); err != nil || strings.HasPrefix(rel, "..") {
		t.Fatalf("backup %s is not in the state directory %s", p.Backups[0], state.Backups())
	}
	for _, d := range []string{state.Path, state.Backups()} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("%s: %v %v, want mode 0700", d, fi.Mode().Perm(), err)
		}
	}
	// Grep everything under the test's directory, and what decompresses of it.
	files := 0
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files++
		for _, text := range [][]byte{b, gunzipPrefix(b)} {
			for _, tok := range tokens {
				if bytes.Contains(text, []byte(tok)) {
					t.Errorf("token value in clear in %s", path)
				}
			}
		}
		return nil
	})
	if files < 4 { // inventory, audit log, journals, backup
		t.Fatalf("only %d files written?", files)
	}
	// The backup restores with the identity, and only with it.
	idFile := filepath.Join(dir, "key.txt")
	os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600)
	target := []string{"restore", "--product", "jira", "--home", c.Home(), "--yes", "--json"}
	if _, stderr, code := reauthCmd(t, nil, append(target, p.Backups[0])...); code != 4 || !strings.Contains(stderr, "--identity") {
		t.Fatalf("restore without --identity: exit %d\n%s", code, stderr)
	}
	// With the run's inventory, restore holds the file against the run's audit log: the digest the
	// run recorded matches.
	stdout, stderr, code = reauthCmd(t, nil, append(target, "--config", cfg, "--identity", idFile, p.Backups[0])...)
	if code != 0 || !strings.Contains(stdout, `"restored": `) || !strings.Contains(stdout, `"audit_record": "sha256 matches"`) {
		t.Fatalf("restore --identity: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := tokenValues(t, db); len(got) != len(tokens) {
		t.Fatalf("%d tokens after restore, want %d", len(got), len(tokens))
	}
	// Whoever can write the backup replaces it with a clear file (no key needed): the run's audit
	// log records it as encrypted, so restore refuses it with no --identity and no inventory.
	forgeClearBackup(t, p.Backups[0])
	mustExecSQL(t, db, "DELETE FROM remembermetoken")
	_, stderr, code = reauthCmd(t, nil, append(target, "--audit-log", filepath.Join(dir, "audit.jsonl"), p.Backups[0])...)
	if code != 4 || !strings.Contains(stderr, "records it as encrypted") || len(tokenValues(t, db)) != 0 {
		t.Fatalf("restore of a clear forgery of the run's encrypted backup: exit %d, %d tokens\n%s", code, len(tokenValues(t, db)), stderr)
	}
}

// forgeClearBackup replaces an encrypted backup with a clear one of the same manifest holding a
// token of the forger's choosing.
func forgeClearBackup(t *testing.T, path string) {
	t.Helper()
	r, err := backup.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	m := r.Manifest()
	r.Close()
	w, err := backup.Create(path+".forged", m)
	if err != nil {
		t.Fatal(err)
	}
	row := make([]any, len(m.Columns))
	for i, c := range m.Columns {
		switch strings.ToLower(c.Name) {
		case strings.ToLower(m.IDColumn):
			row[i] = int64(1)
		case "token":
			row[i] = "forged-token"
		}
	}
	if err := w.Append(row); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".forged", path); err != nil {
		t.Fatal(err)
	}
}

func mustExecSQL(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
}

func tokenValues(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query("SELECT token FROM remembermetoken")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// gunzipPrefix is whatever decompresses from the start of b (gzip members one after another).
func gunzipPrefix(b []byte) []byte {
	zr, err := gzip.NewReader(bufio.NewReader(bytes.NewReader(b)))
	if err != nil {
		return nil
	}
	out, _ := io.ReadAll(zr)
	return out
}

// Preflight refuses (exit 4, in a dry run too) a run that could not write its backups, audit log
// or journal, or whose backups would be in clear when the inventory requires encryption.
func TestPreflightPlacesRefused(t *testing.T) {
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 1, Users: 3, RememberFraction: 1})
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	os.WriteFile(file, nil, 0o600)
	cfg := writeInventory(t, dir, product{c: c})
	base, _ := os.ReadFile(cfg)
	edit := func(old, new string) []byte {
		return bytes.Replace(base, []byte(old), []byte(new), 1)
	}
	repo := filepath.Join(dir, "ops-scripts")
	os.MkdirAll(filepath.Join(repo, ".git"), 0o700)
	cases := []struct {
		name, want string
		inv        []byte
		env        []string
	}{
		{"backup dir unwritable", "backup directory", edit("  backup_dir: "+dir+"\n", "  backup_dir: "+file+"/backups\n"), nil},
		{"audit log unwritable", "audit log", edit("  audit_log: "+filepath.Join(dir, "audit.jsonl"), "  audit_log: "+file+"/audit.jsonl"), nil},
		{"backup dir missing", "does not exist", edit("  backup_dir: "+dir+"\n", "  backup_dir: "+dir+"/no-such-dir\n"), nil},
		{"audit log directory missing", "does not exist", edit("  audit_log: "+filepath.Join(dir, "audit.jsonl"), "  audit_log: "+dir+"/no-such-dir/audit.jsonl"), nil},
		{"state dir unwritable", "state directory", base, []string{"XDG_STATE_HOME=" + file}},
		{"backup dir in a git work tree", "git work tree", edit("  backup_dir: "+dir+"\n", "  backup_dir: "+repo+"\n"), nil},
		{"backup dir in the product home", "product's home", edit("  backup_dir: "+dir+"\n", "  backup_dir: "+filepath.Join(c.Home(), "backups")+"\n"), nil},
		{"clear backups forbidden", "requires encrypted backups", edit("  backup_dir: "+dir+"\n", "  backup_dir: "+dir+"\n  require_encrypted_backups: true\n"), nil},
	}
	before := c.PIDs()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(cfg, tc.inv, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"--dry-run"}, {"--yes"}} {
				stdout, stderr, code := reauthCmd(t, tc.env, append([]string{"run", "--config", cfg}, args...)...)
				if code != 4 || !strings.Contains(stderr, tc.want) {
					t.Fatalf("run %v: exit %d, want 4 saying %q\n%s\n%s", args, code, tc.want, stdout, stderr)
				}
			}
		})
	}
	os.WriteFile(cfg, base, 0o600)
	if n := len(tokenValuesOf(t, c)); n < 3 {
		t.Fatalf("%d tokens left: a refused run deleted some", n)
	}
	for name, pid := range c.PIDs() {
		if before[name] != pid {
			t.Fatalf("node %s was restarted by a refused run", name)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".reauth-*")); len(m) > 0 {
		t.Fatalf("journal files beside the inventory: %v", m)
	}
}

func tokenValuesOf(t *testing.T, c *sandbox.Cluster) []string {
	db, err := sql.Open("sqlite", strings.TrimPrefix(c.DBURL(), "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return tokenValues(t, db)
}
