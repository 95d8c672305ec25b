package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth/backup"
)

// A backup's manifest is read without an identity and before anything authenticates it: an
// edited one must not put terminal control sequences on the operator's screen.
func TestInspectBackupEscapesTheManifest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.jsonl.gz")
	evil := "\x1b]0;pwned\x07\x1b[2J"
	w, err := backup.Create(path, backup.Manifest{Product: "jira" + evil, Table: "remembermetoken" + evil, IDColumn: "id",
		Columns: []backup.Column{{Name: "id", SQLType: "bigint", Kind: backup.KindInt}}, ReauthVersion: "v1" + evil,
		Filters: backup.Filters{Users: []string{"alice" + evil}, ExcludeUsers: []string{"bob\r" + evil}}, Started: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"inspect", "--backup", path}, IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	if code != 0 {
		t.Fatalf("inspect --backup exited %d: %s", code, errb.String())
	}
	if strings.ContainsAny(out.String(), "\x1b\x07\r") {
		t.Fatalf("raw control characters reached the terminal: %q", out.String())
	}
	if !strings.Contains(out.String(), "alice") || !strings.Contains(out.String(), "bob") {
		t.Fatalf("the filters are not shown: %q", out.String())
	}
}
