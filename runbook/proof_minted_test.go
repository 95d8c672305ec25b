package runbook

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/backup"
	"github.com/reauth/reauth/sqlstore"
)

// The proof token is recorded (id and token digest, on disk) before it is inserted, so that a run
// killed right after the insert leaves a record; the next run deletes what a record names, by id
// and digest, and nothing else; a finished run leaves no record behind.
func TestFakeMintedTokenRecordedBeforeItsInsert(t *testing.T) {
	f := newFakeJob(t)
	o := f.options()
	o.defaults()
	u := &unit{o: &o, journal: &Journal{path: journalPath(&o, &f.inv.Products[0])}}
	const token = "the-minted-token-value"
	if err := os.MkdirAll(o.StateDir.Path, 0o700); err != nil {
		t.Fatal(err)
	}
	// A killed run's record.
	if err := u.saveMinted([]mintedRecord{{RowID: -9, Digest: sqlstore.TokenDigest("killed run's token"), User: "alice"}}); err != nil {
		t.Fatal(err)
	}
	f.store.MintFunc = func(_ context.Context, _ atlassian.ProofCookie, _, _ string, _ time.Time, record func(int64, string) error) (sqlstore.ProofToken, error) {
		if err := record(-5, sqlstore.TokenDigest(token)); err != nil {
			return sqlstore.ProofToken{}, err
		}
		b, err := os.ReadFile(u.mintedPath()) // what a kill at the insert would leave
		if err != nil || !strings.Contains(string(b), `"row_id": -5`) || !strings.Contains(string(b), sqlstore.TokenDigest(token)) ||
			strings.Contains(string(b), token) {
			t.Errorf("before the insert the record is %q (%v): want id -5 and the token's digest, never the token", b, err)
		}
		f.minted.Store(true)
		return sqlstore.ProofToken{ID: -5, User: "alice", Series: "s", Token: token}, nil
	}
	var mu sync.Mutex
	var deletes []string
	f.store.DeleteMintedFunc = func(_ context.Context, _ atlassian.ProofCookie, id int64, digest string) (int64, error) {
		mu.Lock()
		defer mu.Unlock()
		deletes = append(deletes, fmt.Sprintf("%d %s", id, digest))
		if id == -9 {
			return 1, nil
		}
		return 0, nil // the purge took the run's own
	}
	if _, err := f.run(o); err != nil {
		t.Fatalf("run: %v\n%s", err, f.err.String())
	}
	want := []string{"-9 " + sqlstore.TokenDigest("killed run's token"), "-5 " + sqlstore.TokenDigest(token)}
	if !slices.Equal(deletes, want) {
		t.Fatalf("DeleteMinted calls %q, want %q: only recorded rows, by their digest", deletes, want)
	}
	if f.store.Count("Mint") != 1 || !calledBefore(f.store.Order(), "DeleteMinted", "Mint") {
		t.Fatalf("calls %v: the killed run's token goes before this run mints", f.store.Order())
	}
	if _, err := os.Stat(u.mintedPath()); !os.IsNotExist(err) {
		t.Fatalf("the record of minted tokens is left after the run: %v", err)
	}
}

// Rebuilt from a backup, the minted proof token is the row with the journal's minted id; a sampled
// row with a negative id (someone else's, in the proof id range) stays a sampled token of its user.
func TestRebuildTellsMintedFromNegativeSampled(t *testing.T) {
	f := newFakeJob(t)
	o := f.options()
	o.defaults()
	prod, err := atlassian.Lookup("jira")
	if err != nil {
		t.Fatal(err)
	}
	u := &unit{o: &o, inv: &f.inv.Products[0], prod: prod, journal: &Journal{MintedID: -5, ProofUser: "alice"}}
	u.store = f.store
	f.store.TableFunc = func() sqlstore.TableInfo { return sqlstore.TableInfo{User: "username"} }
	path := filepath.Join(t.TempDir(), "b.jsonl.gz")
	m := backup.Manifest{Product: "jira", Table: "remembermetoken", TableName: "remembermetoken", IDColumn: "id", CutoffID: 9,
		Columns: []backup.Column{{Name: "id", SQLType: "numeric", Kind: backup.KindInt}, {Name: "token", SQLType: "varchar", Kind: backup.KindString},
			{Name: "username", SQLType: "varchar", Kind: backup.KindString}}}
	w, err := backup.Create(path, m)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range [][]any{{int64(-5), "minted", "alice"}, {int64(-1100000000), "realtok-neg", "user003"}} {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pc, _ := u.proofFormat()
	if n, err := u.rowsFromBackup(path, map[int64]bool{-5: true, -1100000000: true}, pc.Value); err != nil || n != 2 {
		t.Fatalf("rebuilt %d rows: %v", n, err)
	}
	got := map[int64]string{}
	for _, c := range u.proof {
		got[c.rowID] = c.source + " " + c.user
	}
	if got[-5] != SourceMinted+" alice" || got[-1100000000] != SourceSampled+" user003" {
		t.Fatalf("rebuilt %v: want -5 minted (alice), -1100000000 sampled (user003)", got)
	}
}

// A negative cut-off is no empty table: when the highest id is the proof token's and the plan
// counts another row below it (someone else's, in the proof id range), the purge runs and backs
// both up; only when the proof token is the one row is it deleted alone, with no backup.
func TestFakeNegativeCutoffIsPurged(t *testing.T) {
	for _, tc := range []struct {
		rows      int64
		wantPurge bool
	}{{2, true}, {1, false}} {
		f := newFakeJob(t)
		f.store.PlanFunc = func(_ context.Context, o sqlstore.PurgeOptions) (sqlstore.PurgePlan, error) {
			return sqlstore.PurgePlan{CutoffID: -5, ToDelete: tc.rows}, nil // -5: the fake's minted id
		}
		f.store.PurgeFunc = func(_ context.Context, o sqlstore.PurgeOptions) (sqlstore.PurgeResult, error) {
			if o.CutoffID != -5 {
				t.Errorf("purge with cut-off %d, want -5", o.CutoffID)
			}
			f.purged.Store(true)
			return sqlstore.PurgeResult{Deleted: tc.rows, Backup: o.BackupPath, SHA256: "sum", CutoffID: o.CutoffID}, nil
		}
		f.store.DeleteMintedFunc = func(context.Context, atlassian.ProofCookie, int64, string) (int64, error) {
			if f.purged.Load() {
				return 0, nil
			}
			f.purged.Store(true)
			return 1, nil
		}
		o := f.options()
		rep, err := f.run(o)
		if err != nil {
			t.Fatalf("%d row(s): %v\n%s", tc.rows, err, f.err.String())
		}
		if got := f.store.Count("Purge") == 1; got != tc.wantPurge || (len(rep.Products[0].Backups) == 1) != tc.wantPurge {
			t.Fatalf("%d row(s) at or below the proof token's id -5: purge called %v, backups %v; want purge %v",
				tc.rows, got, rep.Products[0].Backups, tc.wantPurge)
		}
	}
}
