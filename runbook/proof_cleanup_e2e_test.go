package runbook_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
	"github.com/reauth/reauth/sqlstore"
)

// The proof cleanup deletes only the proof tokens a run recorded as minted, by id and token:
// a user's row in the proof id range (someone else wrote it) is purged like every other row,
// into the backup; a killed run's recorded proof token is deleted; a row at a recorded id that
// holds another token is not reauth's and is backed up too.
func TestProofCleanupDeletesOnlyRecordedRows(t *testing.T) {
	pg := testenv.Postgres(t)
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 1, DB: pg.URL, Users: 3, RememberFraction: 1})
	cfg := writeInventory(t, t.TempDir(), product{c: c, proofUser: "admin"})
	const foreign, stale, squatter = -1100000000, -1200000000, -1300000000
	for _, r := range []struct {
		id    int64
		token string
	}{{foreign, "realtok-neg"}, {stale, "stale-minted"}, {squatter, "not-the-recorded-token"}} {
		if _, err := pg.SQL.Exec(`INSERT INTO remembermetoken (id, created, token, username) VALUES ($1, $2, $3, 'user003')`,
			r.id, time.Now().Add(-24*time.Hour), r.token); err != nil {
			t.Fatal(err)
		}
	}
	// What a run killed after minting leaves: the record of its proof tokens (id and digest).
	recs := fmt.Sprintf(`[{"row_id": %d, "token_sha256": %q, "user": "admin"}, {"row_id": %d, "token_sha256": %q, "user": "admin"}]`,
		stale, sqlstore.TokenDigest("stale-minted"), squatter, sqlstore.TokenDigest("the token reauth wrote"))
	minted := strings.TrimSuffix(stateDir(cfg).RunJournal(cfg, "jira"), ".json") + ".minted.json"
	if err := os.MkdirAll(filepath.Dir(minted), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(minted, []byte(recs), 0o600); err != nil {
		t.Fatal(err)
	}

	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json", "--mode", "restart")
	if code != 0 {
		t.Fatalf("run exited %d\n%s\n%s", code, stdout, stderr)
	}
	r := decode(t, stdout)
	saved := backupIDs(t, r.Products[0].Backups)
	if !saved[foreign] || !saved[squatter] || saved[stale] {
		t.Fatalf("backups hold %v: want the user's row %d and the squatter %d, not the recorded proof token %d", saved, foreign, squatter, stale)
	}
	if left := count(t, pg.SQL); left != 0 {
		t.Fatalf("%d rows left after the run", left)
	}
	if r.Deleted != 5 { // the 3 seeded users' tokens, the user's row in the proof range and the squatter
		t.Fatalf("report says %d deleted, want 5", r.Deleted)
	}
	var cleanup map[string]any
	for _, l := range auditLines(t, filepath.Join(filepath.Dir(cfg), "audit.jsonl")) {
		if l["step"] == "proof-cleanup" {
			cleanup = l
		}
	}
	if cleanup == nil || cleanup["deleted"] != 1.0 || fmt.Sprint(cleanup["row_ids"]) != fmt.Sprint([]any{float64(stale)}) ||
		fmt.Sprint(cleanup["kept_not_minted"]) != fmt.Sprint([]any{float64(squatter)}) {
		t.Fatalf("audit proof-cleanup %v: want only the recorded proof token deleted", cleanup)
	}
	if _, err := os.Stat(minted); !os.IsNotExist(err) {
		b, _ := os.ReadFile(minted)
		t.Fatalf("the record of minted tokens is left after the run: %v %s", err, b)
	}
}

func auditLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}
