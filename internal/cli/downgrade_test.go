package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth/audit"
	"github.com/reauth/reauth/backup"
)

// forgeClear replaces the backup at path with a clear file of the same manifest holding one row
// of the forger's choosing (an admin token inside the cut-off): what anyone who can write the
// backup can do without any key.
func forgeClear(t *testing.T, path string) {
	t.Helper()
	r, err := backup.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	m := r.Manifest()
	r.Close()
	forged := path + ".forged"
	w, err := backup.Create(forged, m)
	if err != nil {
		t.Fatal(err)
	}
	row := make([]any, len(m.Columns))
	for i, c := range m.Columns {
		switch c.Name {
		case "id":
			row[i] = int64(1)
		case "created":
			row[i] = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		case "token":
			row[i] = "forged-admin-token"
		case "username":
			row[i] = "admin"
		}
	}
	if err := w.Append(row); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(forged, path); err != nil {
		t.Fatal(err)
	}
}

// writeAuditRecord writes the audit line a run writes for a backup it finished.
func writeAuditRecord(t *testing.T, logPath, backupPath, sha string, encrypted bool) {
	t.Helper()
	l, err := audit.Open(logPath, "run-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Step("jira", "purge", "ok", map[string]any{"backup": backupPath, "sha256": sha, "encrypted": encrypted, "deleted": 20}); err != nil {
		t.Fatal(err)
	}
}

// An encrypted backup replaced by a clear forgery (no key needed) is refused, exit 4 and nothing
// written, when --identity is given, when a clear backup is required (--require-encrypted, or the
// inventory's require_encrypted_backups through --config), or when the audit log records the file
// as encrypted; backups list marks it. Only with none of these is a clear file taken, and then
// restore says that it could not be checked.
func TestRestoreRefusesDowngradeCLI(t *testing.T) {
	x := jiraDB(t, 20)
	env := map[string]string{"REAUTH_DB_PASSWORD": x.Pass}
	target := []string{"--product", "jira", "--jdbc-url", x.JDBC, "--db-user", x.User}
	dir := t.TempDir()
	pub, priv := sshKeyFiles(t, dir, "id")
	path := filepath.Join(dir, "reauth-jira-20261208T010000.000Z.jsonl.gz")
	code, out, errs := storeCLI(t, env, false, "", append(append([]string{"purge"}, target...), "--backup", path,
		"--backup-recipient", pub, "--yes", "--json")...)
	if code != 0 || count(t, x) != 0 {
		t.Fatalf("encrypted purge: exit %d %s\n%s", code, out, errs)
	}
	forgeClear(t, path)
	logPath := filepath.Join(dir, "audit.jsonl")
	writeAuditRecord(t, logPath, path, "", true)
	inv := filepath.Join(dir, "reauth.yaml")
	os.WriteFile(inv, []byte("defaults: {require_encrypted_backups: true, audit_log: "+filepath.Join(dir, "none.jsonl")+"}\nproducts:\n  - product: jira\n    home: /j\n"+
		"    nodes:\n      - {name: n1, url: \"http://127.0.0.1:9\", restart: {exec: {command: x}}}\n"), 0o600)
	restore := func(extra ...string) (int, string, string) {
		return storeCLI(t, env, false, "", append(append(append([]string{"restore"}, target...), extra...), path)...)
	}
	for name, c := range map[string]struct {
		flags []string
		says  string
	}{
		"--identity":          {[]string{"--identity", priv}, "--identity was given"},
		"--require-encrypted": {[]string{"--require-encrypted"}, "--require-encrypted was given"},
		"--config":            {[]string{"--config", inv}, "defaults.require_encrypted_backups"},
		"--audit-log":         {[]string{"--audit-log", logPath}, "records it as encrypted (run run-1, line 1)"},
	} {
		for _, mode := range [][]string{{"--yes"}, {"--dry-run"}} {
			code, _, errs := restore(append(c.flags, mode...)...)
			if code != 4 || count(t, x) != 0 || !strings.Contains(errs, "is not encrypted, but ") || !strings.Contains(errs, c.says) || !strings.Contains(errs, "forgery") {
				t.Errorf("restore %s %v of a clear forgery: exit %d, %d rows\n%s", name, mode, code, count(t, x), errs)
			}
		}
	}
	code, out, _ = storeCLI(t, env, false, "", "backups", "list", "--dir", dir, "--audit-log", logPath, "--json")
	var l struct {
		Backups []backupEntry `json:"backups"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &l) != nil || len(l.Backups) != 1 || l.Backups[0].Audit != "recorded as encrypted" || l.Backups[0].Verified {
		t.Fatalf("backups list of the forgery: exit %d %s", code, out)
	}
	// Nothing says the file should be encrypted: taken, saying it could not be checked.
	code, out, errs = restore("--dry-run", "--json", "--audit-log", filepath.Join(dir, "empty.jsonl"))
	if code != 4 || !strings.Contains(errs, "empty.jsonl") {
		t.Errorf("restore with an --audit-log that does not exist: exit %d\n%s", code, errs)
	}
	code, out, errs = restore("--dry-run", "--json")
	if code != 0 || decode(t, out)["audit_record"] != "no audit log" || !strings.Contains(errs, "cannot be checked against the run that wrote it") {
		t.Errorf("restore --dry-run with no policy and no audit log: exit %d %s\n%s", code, out, errs)
	}
	// A damaged audit log in the default place does not block a restore; it is said.
	state := filepath.Join(testStateHome(t), "reauth")
	os.MkdirAll(state, 0o700)
	os.WriteFile(filepath.Join(state, "audit.jsonl"), []byte("not json\n{}\n"), 0o600)
	code, out, errs = restore("--dry-run", "--json")
	if code != 0 || decode(t, out)["audit_record"] != "no audit log" || !strings.Contains(errs, "cannot be read") {
		t.Errorf("restore --dry-run with a damaged default audit log: exit %d %s\n%s", code, out, errs)
	}
}

// restore and backups list hold a clear backup against the sha256 its run recorded: a file whose
// rows give another is refused (exit 4, nothing written) and listed as differing; the genuine file
// matches and restores.
func TestRestoreChecksRecordedDigestCLI(t *testing.T) {
	x := jiraDB(t, 20)
	env := map[string]string{"REAUTH_DB_PASSWORD": x.Pass}
	target := []string{"--product", "jira", "--jdbc-url", x.JDBC, "--db-user", x.User}
	dir := t.TempDir()
	path := filepath.Join(dir, "reauth-jira-20261208T010000.000Z.jsonl.gz")
	code, out, errs := storeCLI(t, env, false, "", append(append([]string{"purge"}, target...), "--backup", path, "--yes", "--json")...)
	if code != 0 || count(t, x) != 0 {
		t.Fatalf("purge: exit %d %s\n%s", code, out, errs)
	}
	sha, _ := decode(t, out)["sha256"].(string)
	restore := func(log string, extra ...string) (int, string, string) {
		return storeCLI(t, env, false, "", append(append(append([]string{"restore", "--audit-log", log}, target...), extra...), path)...)
	}
	list := func(log string) backupEntry {
		code, out, errs := storeCLI(t, env, false, "", "backups", "list", "--dir", dir, "--audit-log", log, "--json")
		var l struct {
			Backups []backupEntry `json:"backups"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &l) != nil || len(l.Backups) != 1 {
			t.Fatalf("backups list: exit %d %s\n%s", code, out, errs)
		}
		return l.Backups[0]
	}
	wrong := filepath.Join(dir, "wrong.jsonl")
	writeAuditRecord(t, wrong, path, strings.Repeat("ab", 32), false)
	code, _, errs = restore(wrong, "--yes")
	if code != 4 || count(t, x) != 0 || !strings.Contains(errs, "the audit log records "+strings.Repeat("ab", 32)) {
		t.Fatalf("restore of a file whose digest differs from the record: exit %d, %d rows\n%s", code, count(t, x), errs)
	}
	if e := list(wrong); e.Audit != "sha256 differs" || e.Verified || e.AuditRunID != "run-1" {
		t.Fatalf("list against a differing record: %+v", e)
	}
	none := filepath.Join(dir, "none.jsonl")
	writeAuditRecord(t, none, filepath.Join(dir, "reauth-jira-other.jsonl.gz"), sha, false)
	if e := list(none); e.Audit != "no record" || !e.Verified {
		t.Fatalf("list against a log without its record: %+v", e)
	}
	right := filepath.Join(dir, "right.jsonl")
	writeAuditRecord(t, right, path, sha, false)
	if e := list(right); e.Audit != "sha256 matches" || !e.Verified {
		t.Fatalf("list against its record: %+v", e)
	}
	code, out, errs = restore(right, "--yes", "--json")
	if m := decode(t, out); code != 0 || m["restored"] != 20.0 || m["audit_record"] != "sha256 matches" || count(t, x) != 20 {
		t.Fatalf("restore of the genuine file: exit %d %v\n%s", code, m, errs)
	}
}
