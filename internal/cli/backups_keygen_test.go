package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/reauth/reauth/backup"
)

// TestBackupsKeygen: keygen writes a 0600 identity outside the state directory and its recipient
// beside it; what one encrypts to the recipient (also read as the recipients file the inventory
// may name), the identity decrypts; the text output says how to put it in the inventory. A
// second keygen onto the same file, and one into the state directory, are refused and write nothing.
func TestBackupsKeygen(t *testing.T) {
	cfg, state := t.TempDir(), t.TempDir()
	env := map[string]string{"XDG_CONFIG_HOME": cfg, "XDG_STATE_HOME": state}
	code, out, errs := runCLI(t, env, "backups", "keygen", "--json")
	if code != 0 {
		t.Fatalf("keygen: exit %d\n%s%s", code, out, errs)
	}
	var r keygenResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("keygen --json: %v\n%s", err, out)
	}
	if want := filepath.Join(cfg, "reauth", "backup-identity.txt"); r.Identity != want || r.RecipientFile != want+".pub" {
		t.Errorf("paths %+v, want %s(.pub)", r, want)
	}
	if strings.Contains(out, "AGE-SECRET-KEY") {
		t.Errorf("--json prints the secret key:\n%s", out)
	}
	fi, err := os.Stat(r.Identity)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("identity file: %v %v, want 0600", fi, err)
	}
	idText, _ := os.ReadFile(r.Identity)
	ids, err := backup.ParseIdentities(idText, nil)
	if err != nil {
		t.Fatalf("the identity does not parse: %v", err)
	}
	rcpts, err := backup.ParseRecipientValues([]string{r.RecipientFile}, nil)
	if err != nil || len(rcpts) != 1 {
		t.Fatalf("the recipient file does not parse: %v %v", rcpts, err)
	}
	var ct bytes.Buffer
	w, err := age.Encrypt(&ct, rcpts[0])
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "rows")
	w.Close()
	pr, err := age.Decrypt(&ct, ids...)
	if err != nil {
		t.Fatalf("the identity does not decrypt what is encrypted to its recipient: %v", err)
	}
	if b, _ := io.ReadAll(pr); string(b) != "rows" {
		t.Errorf("decrypted %q", b)
	}

	code, _, errs = runCLI(t, env, "backups", "keygen")
	if after, _ := os.ReadFile(r.Identity); code != 4 || !bytes.Equal(after, idText) || !strings.Contains(errs, "never overwrites") {
		t.Errorf("second keygen: exit %d, identity unchanged %v\n%s", code, bytes.Equal(after, idText), errs)
	}
	inState := filepath.Join(state, "reauth", "key.txt")
	code, _, errs = runCLI(t, env, "backups", "keygen", "--out", inState)
	if _, err := os.Stat(inState); code != 4 || err == nil || !strings.Contains(errs, "state directory") {
		t.Errorf("keygen into the state directory: exit %d, file written %v\n%s", code, err == nil, errs)
	}

	other := filepath.Join(t.TempDir(), "id.txt")
	code, out, errs = runCLI(t, env, "backups", "keygen", "--out", other)
	if code != 0 || !strings.Contains(out, "backup_recipients:\n      - age1") || !strings.Contains(out, "--identity "+other) {
		t.Errorf("keygen text: exit %d\n%s%s", code, out, errs)
	}
}
