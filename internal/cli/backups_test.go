package cli

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/backup"
)

// With no --backup, the backup goes to the state directory (0700) and says it is in clear; a
// --backup inside a git work tree is refused unless --allow-backup-in-tree names it.
func TestPurgeBackupPlaceCLI(t *testing.T) {
	x := jiraDB(t, 30)
	env := map[string]string{"REAUTH_DB_PASSWORD": x.Pass}
	target := []string{"--product", "jira", "--jdbc-url", x.JDBC, "--db-user", x.User}
	purge := func(extra ...string) (int, string, string) {
		return storeCLI(t, env, false, "", append(append([]string{"purge"}, target...), extra...)...)
	}
	repo := filepath.Join(t.TempDir(), "ops")
	if err := os.MkdirAll(filepath.Join(repo, ".git"), 0o700); err != nil {
		t.Fatal(err)
	}
	inTree := filepath.Join(repo, "b.jsonl.gz")
	for _, flags := range [][]string{{"--dry-run"}, {"--yes"}} {
		code, _, errs := purge(append(flags, "--backup", inTree)...)
		if code != 4 || !strings.Contains(errs, "git work tree") || !strings.Contains(errs, "--allow-backup-in-tree") || count(t, x) != 30 {
			t.Fatalf("purge %v into a git work tree: exit %d, %d rows\n%s", flags, code, count(t, x), errs)
		}
	}
	if code, _, errs := purge("--yes", "--allow-backup-in-tree"); code != 2 {
		t.Fatalf("--allow-backup-in-tree without --backup: exit %d\n%s", code, errs)
	}
	code, out, errs := purge("--yes", "--json", "--exclude-user", "admin")
	if code != 0 {
		t.Fatalf("purge: exit %d\n%s", code, errs)
	}
	m := decode(t, out)
	state := filepath.Join(testStateHome(t), "reauth")
	path, _ := m["backup"].(string)
	if filepath.Dir(path) != filepath.Join(state, "backups") {
		t.Fatalf("backup %s, want it in %s/backups", path, state)
	}
	for _, d := range []string{state, filepath.Join(state, "backups")} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("%s: %v, want mode 0700", d, err)
		}
	}
	if m["backup_encrypted"] != false || !strings.Contains(out, "NOT encrypted") {
		t.Fatalf("a clear backup is not said to be clear: %s", out)
	}
	code, _, errs = purge("--yes", "--backup", inTree, "--allow-backup-in-tree")
	if code != 0 {
		t.Fatalf("purge into a git work tree with --allow-backup-in-tree: exit %d\n%s", code, errs)
	}
}

// An encrypted purge (an SSH public key as recipient) restores only with --identity; restore
// --dry-run shows the manifest without it.
func TestEncryptedPurgeRestoreCLI(t *testing.T) {
	x := jiraDB(t, 40)
	env := map[string]string{"REAUTH_DB_PASSWORD": x.Pass}
	target := []string{"--product", "jira", "--jdbc-url", x.JDBC, "--db-user", x.User}
	dir := t.TempDir()
	pub, priv := sshKeyFiles(t, dir, "id")
	_, other := sshKeyFiles(t, dir, "other")
	recipients := filepath.Join(dir, "recipients")
	os.WriteFile(recipients, []byte("# ops team\n"+pub+"\n"), 0o600)
	path := filepath.Join(dir, "b.jsonl.gz")
	code, out, errs := storeCLI(t, env, false, "", append(append([]string{"purge"}, target...), "--backup", path,
		"--backup-recipient", recipients, "--yes", "--json")...)
	if code != 0 || decode(t, out)["backup_encrypted"] != true || strings.Contains(out, "NOT encrypted") || count(t, x) != 0 {
		t.Fatalf("encrypted purge: exit %d %s\n%s", code, out, errs)
	}
	restore := func(extra ...string) (int, string, string) {
		return storeCLI(t, env, false, "", append(append(append([]string{"restore"}, target...), extra...), path)...)
	}
	code, out, errs = restore("--dry-run", "--json")
	if m := decode(t, out); code != 0 || m["encrypted"] != true || m["checked"] != false || m["cutoff_id"] != float64(40) {
		t.Fatalf("restore --dry-run without identity: exit %d %s\n%s", code, out, errs)
	}
	code, out, errs = storeCLI(t, env, false, "", "inspect", "--backup", path, "--json")
	if m := decode(t, out); code != 0 || m["encrypted"] != true || m["product"] != "jira" || m["cutoff_id"] != float64(40) {
		t.Fatalf("inspect --backup: exit %d %s\n%s", code, out, errs)
	}
	code, out, errs = restore("--dry-run", "--json", "--identity", priv)
	if m := decode(t, out); code != 0 || m["checked"] != true || m["rows"] != float64(40) {
		t.Fatalf("restore --dry-run --identity: exit %d %s\n%s", code, out, errs)
	}
	for name, extra := range map[string][]string{"no identity": nil, "wrong identity": {"--identity", other}} {
		if code, _, errs := restore(append(extra, "--yes")...); code != 4 || count(t, x) != 0 {
			t.Fatalf("restore with %s: exit %d, %d rows\n%s", name, code, count(t, x), errs)
		}
	}
	code, out, errs = restore("--identity", priv, "--yes", "--json")
	if code != 0 || decode(t, out)["restored"] != float64(40) || count(t, x) != 40 {
		t.Fatalf("restore --identity: exit %d %s\n%s", code, out, errs)
	}
	// The private key and the tokens never show in what reauth printed.
	key, _ := os.ReadFile(priv)
	if bytes.Contains([]byte(out+errs), key[40:80]) || strings.Contains(out+errs, "tok1") {
		t.Fatal("a secret was printed")
	}
}

// sshKeyFiles writes an ed25519 key pair; it returns the public key line and the private key file.
func sshKeyFiles(t *testing.T, dir, name string) (string, string) {
	t.Helper()
	p, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(p)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := ssh.MarshalPrivateKey(k, "")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, pem.EncodeToMemory(blk), 0o600); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))), file
}

func TestCheckSchema(t *testing.T) {
	var errb bytes.Buffer
	streams := IO{Err: &errb}
	m := backup.Manifest{Database: backup.Database{Schema: "jira"}}
	if err := checkSchema(streams, m, "jira", ""); err != nil || errb.Len() > 0 {
		t.Fatalf("same schema: %v %s", err, errb.String())
	}
	err := checkSchema(streams, m, "jira_copy", "")
	if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(reauth.HintOf(err), "--to-schema jira_copy") || !strings.Contains(errb.String(), "warning") {
		t.Fatalf("other schema without --to-schema: %v (hint %q) %s", err, reauth.HintOf(err), errb.String())
	}
	if err := checkSchema(streams, m, "jira_copy", "other"); reauth.CodeOf(err) != reauth.ExitRefused {
		t.Fatalf("--to-schema naming another schema: %v", err)
	}
	if err := checkSchema(streams, m, "jira_copy", "jira_copy"); err != nil {
		t.Fatalf("--to-schema naming the target: %v", err)
	}
}
