package runbook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/reauth/reauth/internal/atomicfile"
	"github.com/reauth/reauth/sqlstore"
)

// The record of the proof tokens a product's runs minted and have not yet seen gone. It is
// written before each insert (sqlstore.Store.Mint calls recordMinted first), so that a run killed
// at any moment after the insert leaves a record naming its row. The only rows reauth deletes
// without a backup are the ones these records name, and only while the row still holds the token
// whose digest was recorded (sqlstore.Store.DeleteMinted): every other row, also one in the id
// range proof tokens are drawn from, is a token someone else wrote, and the purge backs it up
// with the rest.

// mintedRecord is one proof token reauth inserted, or was about to: the row's id and the SHA-256
// of its token (which gives the token away no more than the id does), never the token itself.
type mintedRecord struct {
	RowID    int64     `json:"row_id"`
	Digest   string    `json:"token_sha256"`
	User     string    `json:"user"`
	RunID    string    `json:"run_id"`
	Recorded time.Time `json:"recorded"`
}

// mintedPath is the file of the product's minted records, beside its run journal.
func (u *unit) mintedPath() string {
	return strings.TrimSuffix(u.journal.path, ".json") + ".minted.json"
}

// loadMinted reads the product's minted records (none when there is no file).
func (u *unit) loadMinted() ([]mintedRecord, error) {
	b, err := os.ReadFile(u.mintedPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the record of minted proof tokens: %w", err)
	}
	var recs []mintedRecord
	if err := json.Unmarshal(b, &recs); err != nil {
		return nil, fmt.Errorf("the record of minted proof tokens %s is damaged (%v): move it aside; "+
			"any proof token it names is then purged, with a backup, by the next run", u.mintedPath(), err)
	}
	return recs, nil
}

// saveMinted writes the records atomically (0600), or removes the file when none is left.
func (u *unit) saveMinted(recs []mintedRecord) error {
	if len(recs) == 0 {
		if err := os.Remove(u.mintedPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove the record of minted proof tokens: %w", err)
		}
		return nil
	}
	b, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(u.mintedPath(), b, 0o600); err != nil {
		return fmt.Errorf("write the record of minted proof tokens: %w", err)
	}
	return nil
}

// recordMinted is Mint's record hook: it adds the row about to be inserted to the records, on
// disk, before the insert.
func (u *unit) recordMinted(user string) func(id int64, digest string) error {
	return func(id int64, digest string) error {
		recs, err := u.loadMinted()
		if err != nil {
			return err
		}
		for _, r := range recs {
			if r.RowID == id && r.Digest == digest {
				return nil
			}
		}
		recs = append(recs, mintedRecord{RowID: id, Digest: digest, User: user, RunID: u.runID(), Recorded: u.o.Now().UTC()})
		return u.saveMinted(recs)
	}
}

// deleteMinted deletes the recorded proof token with this id, by its id and token (a row at the
// id that holds another token is kept: sqlstore.ErrNotMinted), and forgets its record once the
// row is gone or proved not to be reauth's. It deletes nothing the records do not name.
func (u *unit) deleteMinted(ctx context.Context, id int64) (int64, error) {
	recs, err := u.loadMinted()
	if err != nil {
		return 0, err
	}
	i := -1
	for k, r := range recs {
		if r.RowID == id {
			i = k
		}
	}
	if i < 0 {
		return 0, fmt.Errorf("proof token (id %d): no record of its token, so it is not deleted by id alone "+
			"(a purge whose cut-off is above it backs it up and deletes it)", id)
	}
	pc, _ := u.proofFormat()
	k, err := u.store.DeleteMinted(ctx, pc, id, recs[i].Digest)
	if err != nil && !errors.Is(err, sqlstore.ErrNotMinted) {
		return 0, err
	}
	if serr := u.saveMinted(append(recs[:i:i], recs[i+1:]...)); serr != nil {
		return k, errors.Join(err, serr)
	}
	return k, err
}

// cleanMinted runs under the lock before a run mints: it deletes the proof tokens earlier runs
// recorded and did not delete (killed, or their database went away), each only while it still
// holds the recorded token.
func (u *unit) cleanMinted(ctx context.Context) {
	recs, err := u.loadMinted()
	if err != nil {
		u.report.Warnings = append(u.report.Warnings, "proof: "+err.Error())
		return
	}
	var deleted, kept []int64
	for _, r := range recs {
		if r.RowID == u.journal.ProofRowID {
			continue // this run's own: dropMinted deletes it
		}
		k, err := u.deleteMinted(ctx, r.RowID)
		switch {
		case errors.Is(err, sqlstore.ErrNotMinted):
			kept = append(kept, r.RowID)
		case err != nil:
			u.report.Warnings = append(u.report.Warnings, "proof: "+err.Error())
		case k > 0:
			deleted = append(deleted, r.RowID)
		}
	}
	if len(deleted)+len(kept) > 0 {
		u.step("proof-cleanup", "ok", map[string]any{"deleted": len(deleted), "row_ids": deleted, "kept_not_minted": kept,
			"why": "proof tokens an earlier run recorded as minted and did not delete (it was killed): deleted by id and token"})
	}
}
