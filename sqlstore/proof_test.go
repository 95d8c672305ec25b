package sqlstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The proof's database side on every engine: the minted row (negative id, inside the purge's
// range without moving the cut-off, gone after the purge), sampled tokens spread over users with
// login names, and "issued before the run" by creation time where the engine's clock is read.
func TestProofRows(t *testing.T) {
	for _, e := range targets {
		t.Run(e.name, func(t *testing.T) {
			tg := e.open(t)
			ctx := ctxT(t)
			setupJira(t, tg, 50)
			table, id := tbl(tg)
			s := openStore(t, tg, "jira", Options{})
			for login, want := range map[string]string{"alice": "JIRAUSER10100", "BOB": "bob", "nobody": "nobody"} {
				if got, err := s.UserRef(ctx, login); err != nil || got != want {
					t.Errorf("UserRef(%s) = %q, %v; want %q", login, got, err, want)
				}
			}
			now, clock, err := s.DBNow(ctx)
			if err != nil || clock != (tg.name != "sqlite") {
				t.Fatalf("DBNow: %v %v %v", now, clock, err)
			}
			if clock && (now.Before(time.Now().Add(-time.Minute)) || now.After(time.Now().Add(time.Minute))) {
				t.Fatalf("database clock %v is not now", now)
			}
			if !clock {
				now = time.Now().UTC()
			}
			jira := product(t, "jira")
			minted, err := s.Mint(ctx, jira.Proof, "JIRAUSER10100", "alice", now.Add(-2*time.Second), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !IsProofID(minted.ID) || len(minted.Token) != 40 {
				t.Fatalf("minted %d (token length %d): want a negative 32-bit id and a 40-digit token", minted.ID, len(minted.Token))
			}
			var tok, user string
			if err := tg.sql.QueryRow(fmt.Sprintf("SELECT token, username FROM %s WHERE %s = %d", table, id, minted.ID)).Scan(&tok, &user); err != nil ||
				tok != minted.Token || user != "JIRAUSER10100" {
				t.Fatalf("minted row: %q %q %v", tok, user, err)
			}
			plan, err := s.Plan(ctx, PurgeOptions{})
			if err != nil || plan.CutoffID != 50 || plan.ToDelete != 51 {
				t.Fatalf("plan with the minted row: cut-off %d, to delete %d (%v); want 50 and 51", plan.CutoffID, plan.ToDelete, err)
			}
			sample, err := s.Sample(ctx, jira.Proof, plan.CutoffID, minted.ID, PurgeOptions{ExcludeUsers: []string{"dave"}}, 6)
			if err != nil {
				t.Fatal(err)
			}
			users := map[string]int{}
			for _, st := range sample {
				users[st.User]++
				if st.ID == minted.ID || st.Token != fmt.Sprintf("%040x", st.ID*7919) {
					t.Errorf("sampled %+v", st)
				}
			}
			if len(sample) != 6 || len(users) != 4 || users["alice"] == 0 || users["dave"] != 0 {
				t.Fatalf("sample over users: %v (want 6 over alice, bob, carol, admin; dave excluded)", users)
			}
			if _, err := s.Purge(ctx, PurgeOptions{CutoffID: plan.CutoffID, BackupPath: filepath.Join(t.TempDir(), "b.jsonl.gz")}); err != nil {
				t.Fatal(err)
			}
			if n, err := s.DeleteMinted(ctx, jira.Proof, minted.ID, TokenDigest(minted.Token)); err != nil || n != 0 {
				t.Fatalf("the purge left the minted row: %d %v", n, err)
			}
			// After the run: id 7 issued later on a node with a lower id bank; id 8 is a left-over.
			p := tg.d.Placeholder
			ins := fmt.Sprintf("INSERT INTO remembermetoken VALUES (%s, %s, %s, %s)", p(1), p(2), p(3), p(4))
			mustExec(t, tg.sql, ins, 7, now.Add(time.Minute), "later", "bob")
			mustExec(t, tg.sql, ins, 8, now.Add(-time.Hour), "left", "bob")
			if rem, err := s.Remaining(ctx, plan.CutoffID, PurgeOptions{}); err != nil || rem != 2 {
				t.Fatalf("remaining by id: %d %v", rem, err)
			}
			if !clock {
				return
			}
			if n, err := s.IssuedBefore(ctx, plan.CutoffID, now, PurgeOptions{}); err != nil || n != 1 {
				t.Fatalf("issued before the run by time: %d %v, want 1 (id 8)", n, err)
			}
			if newest, err := s.NewestCreated(ctx, plan.CutoffID); err != nil || newest == nil || !newest.After(now) {
				t.Fatalf("newest created: %v %v", newest, err)
			}
		})
	}
}

// Mint records the row's id and token digest before the row exists, and DeleteMinted deletes
// only a row whose id and token both match that record: a row someone else wrote in the proof
// id range, or at the same id with another token, stays (the purge backs it up with the rest).
func TestDeleteMintedOnlyItsOwnRow(t *testing.T) {
	for _, e := range targets {
		t.Run(e.name, func(t *testing.T) {
			tg := e.open(t)
			ctx := ctxT(t)
			setupJira(t, tg, 5)
			table, idc := tbl(tg)
			s := openStore(t, tg, "jira", Options{})
			jira := product(t, "jira")
			rows := func(id int64) int {
				var n int
				if err := tg.sql.QueryRow(fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE %s = %d", table, idc, id)).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			var recID int64
			var recDigest string
			minted, err := s.Mint(ctx, jira.Proof, "admin", "admin", time.Now(), func(id int64, digest string) error {
				if rows(id) != 0 {
					t.Errorf("record called after the insert of row %d", id)
				}
				recID, recDigest = id, digest
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if recID != minted.ID || recDigest != TokenDigest(minted.Token) || strings.Contains(recDigest, minted.Token) {
				t.Fatalf("recorded %d %q for minted row %d", recID, recDigest, minted.ID)
			}
			// A failing record stops Mint before the insert.
			var refusedID int64
			if _, err := s.Mint(ctx, jira.Proof, "admin", "admin", time.Now(), func(id int64, _ string) error {
				refusedID = id
				return errors.New("disk full")
			}); err == nil || !strings.Contains(err.Error(), "disk full") || rows(refusedID) != 0 {
				t.Fatalf("Mint with a failing record: %v, row %d present %d", err, refusedID, rows(refusedID))
			}
			// Someone else's row in the proof range, with a real token.
			p := tg.d.Placeholder
			mustExec(t, tg.sql, fmt.Sprintf("INSERT INTO remembermetoken VALUES (%s, %s, %s, %s)", p(1), p(2), p(3), p(4)),
				-1100000000, time.Now().Add(-24*time.Hour), "realtok-neg", "user003")
			if n, err := s.DeleteMinted(ctx, jira.Proof, -1100000000, recDigest); !errors.Is(err, ErrNotMinted) || n != 0 || rows(-1100000000) != 1 {
				t.Fatalf("DeleteMinted of a row reauth did not mint: %d %v", n, err)
			}
			if n, err := s.DeleteMinted(ctx, jira.Proof, minted.ID, TokenDigest("another token")); !errors.Is(err, ErrNotMinted) || n != 0 || rows(minted.ID) != 1 {
				t.Fatalf("DeleteMinted with another digest: %d %v", n, err)
			}
			if n, err := s.DeleteMinted(ctx, jira.Proof, minted.ID, recDigest); err != nil || n != 1 || rows(minted.ID) != 0 {
				t.Fatalf("DeleteMinted of the minted row: %d %v", n, err)
			}
			if n, err := s.DeleteMinted(ctx, jira.Proof, minted.ID, recDigest); err != nil || n != 0 {
				t.Fatalf("DeleteMinted again: %d %v", n, err)
			}
			if rem, err := s.Remaining(ctx, 5, PurgeOptions{}); err != nil || rem != 6 {
				t.Fatalf("rows left: %d %v, want the 5 real rows and the foreign one in the proof range", rem, err)
			}
		})
	}
}

// Purge calls BackupCreated once the backup file exists and before any delete; an error from it
// stops the purge with nothing deleted and no file left (the caller never names a missing file).
func TestPurgeBackupCreatedHook(t *testing.T) {
	tg := pgTarget(t)
	ctx := ctxT(t)
	setupJira(t, tg, 5)
	s := openStore(t, tg, "jira", Options{})
	path := filepath.Join(t.TempDir(), "b.jsonl.gz")
	_, err := s.Purge(ctx, PurgeOptions{BackupPath: path, BackupCreated: func() error {
		if _, err := os.Stat(path); err != nil {
			t.Errorf("BackupCreated before the file exists: %v", err)
		}
		if rem, err := s.Remaining(ctx, 5, PurgeOptions{}); err != nil || rem != 5 {
			t.Errorf("BackupCreated after a delete: %d rows left (%v)", rem, err)
		}
		return errors.New("journal not written")
	}})
	if err == nil || !strings.Contains(err.Error(), "nothing was deleted") {
		t.Fatalf("purge whose BackupCreated failed: %v", err)
	}
	if rem, _ := s.Remaining(ctx, 5, PurgeOptions{}); rem != 5 {
		t.Fatalf("%d rows left, want 5", rem)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the unused backup file is left: %v", err)
	}
	called := 0
	res, err := s.Purge(ctx, PurgeOptions{BackupPath: path, BackupCreated: func() error { called++; return nil }})
	if err != nil || called != 1 || res.Deleted != 5 {
		t.Fatalf("purge: %+v %v, hook called %d times", res, err, called)
	}
}
