package runbook

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/atomicfile"
	"github.com/reauth/reauth/inventory"
)

// Phase is how far a product's run got. Phases only move forward.
type Phase string

// sessionsEnded: the run got past ending the in-memory sessions (by restart or through the API).
func (p Phase) sessionsEnded() bool { return p == PhaseRestarted || p == PhaseSessionsEnded }

const (
	PhaseStarted   Phase = "started"   // lock taken, cut-off fixed, nothing deleted yet
	PhasePurging   Phase = "purging"   // deletes may have committed: the backups hold every deleted row
	PhasePurged    Phase = "purged"    // purge complete and its backups verified
	PhaseRestarted Phase = "restarted" // every node restarted and RUNNING
	// PhaseSessionsEnded: every listed user's sessions ended through the API, no node restarted.
	PhaseSessionsEnded Phase = "sessions-ended"
	PhaseDone          Phase = "done" // verified (or verification reported)
)

// Journal is the on-disk record of one product's run, so that --resume does not purge twice and
// restarts only the nodes not yet restarted. It holds no secret and no token value.
type Journal struct {
	path string

	RunID   string    `json:"run_id"`
	Product string    `json:"product"`
	Started time.Time `json:"started"`
	Phase   Phase     `json:"phase"`
	// TableState is the product's token table's purge. Embedded, its fields keep the JSON names
	// every release has written (cutoff_id, deleted, backups…), so old journals read unchanged.
	TableState
	// Tables is the purge of each further token table of the product (Crowd's
	// cwd_remember_me_token), by name, in the order they are purged.
	Tables   []TableState `json:"tables,omitempty"`
	Verified bool         `json:"verified"`
	// PurgedAt is when the purge's last batch committed: the exposure window starts there.
	PurgedAt *time.Time `json:"purged_at,omitempty"`
	// APIUsers are the users whose sessions API mode ends, listed before the purge (it deletes the
	// token rows that name some of them). User names only: no secret.
	APIUsers []string `json:"api_users,omitempty"`
	// The proof (proof.go), by ids and names only. ProofRowID is the minted proof token's row
	// until it is deleted (every exit path deletes it; a killed run's row is deleted by the next
	// run). ProofIDs are the minted and sampled rows every node accepted before the purge: their
	// cookies can be rebuilt later from the backups (which hold the rows), never from here.
	ProofRowID int64   `json:"proof_row_id,omitempty"`
	ProofUser  string  `json:"proof_user,omitempty"`
	ProofIDs   []int64 `json:"proof_ids,omitempty"`
	// MintedID is the minted proof token's id, kept after the row is gone (ProofRowID is then 0),
	// so that a rebuild from the backups tells it from sampled rows with negative ids.
	MintedID int64 `json:"proof_minted_id,omitempty"`
	// ProofInPurge is 1 when the purge deleted the proof token (it is in Deleted and the backup).
	ProofInPurge int64      `json:"proof_in_purge,omitempty"`
	IssuedBy     string     `json:"issued_before_by,omitempty"` // "created" or "id"
	RunStartDB   *time.Time `json:"run_start_db,omitempty"`     // the database clock at the run's start
	LastError    string     `json:"last_error,omitempty"`
	Updated      time.Time  `json:"updated"`
}

// journalPath is where a product's journal lives: in reauth's state directory (never beside the
// inventory, which may be a read-only ConfigMap mount), one per inventory and product.
func journalPath(o *Options, ip *inventory.Product) string {
	return o.StateDir.RunJournal(o.Inventory.FileOf(ip).Path, string(ip.ID))
}

// restartJournalPath is the rolling-restart journal: the one `reauth restart` uses too, so that
// either resumes what the other left.
func restartJournalPath(o *Options, ip *inventory.Product) string {
	return o.StateDir.RestartJournal(o.Inventory.FileOf(ip).Path, string(ip.ID))
}

// loadJournal reads a journal; ok is false when there is none.
func loadJournal(path string) (j *Journal, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read run journal in the state directory %s: %w", filepath.Dir(path), err)
	}
	j = &Journal{}
	if err := json.Unmarshal(b, j); err != nil {
		return nil, false, fmt.Errorf("run journal %s is damaged (%v): move it aside and check the backups it names", path, err)
	}
	if err := j.readCompanionFields(b); err != nil { // a journal of a release before Tables
		return nil, false, fmt.Errorf("run journal %s is damaged (%v): move it aside and check the backups it names", path, err)
	}
	j.path = path
	return j, true, nil
}

// save writes the journal atomically (temp file, fsync, rename), 0600.
func (j *Journal) save(now time.Time) error {
	j.Updated = now.UTC()
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(j.path, b, 0o600); err != nil {
		return fmt.Errorf("write run journal: %w", err)
	}
	return nil
}

// resumeRunID makes a resumed run keep the run id of the run it continues (its journal's), in
// the report and the audit log, also for products that run had not reached. The run continued is
// the one a product stopped in (a journal not done). A product whose journal is of another, earlier
// run that finished was not reached by the run that stopped: it starts afresh, so that --resume
// continues exactly what did not finish. A --resume with no journal to continue is refused: it
// would silently have been a new run.
func resumeRunID(o *Options, units []*unit) error {
	id, found := "", false
	for _, done := range []bool{false, true} {
		for _, u := range units {
			if !u.resumed {
				continue
			}
			found = true
			if id == "" && u.journal.RunID != "" && (u.journal.Phase == PhaseDone) == done {
				id = u.journal.RunID
			}
		}
	}
	if id != "" {
		o.runID = id
		for _, u := range units {
			if u.resumed && u.journal.Phase == PhaseDone && u.journal.RunID != id {
				u.journal, u.resumed = &Journal{path: u.journal.path, Product: u.journal.Product}, false
			}
		}
		return nil
	}
	if found {
		return nil
	}
	var paths []string
	for _, u := range units {
		paths = append(paths, journalPath(o, u.inv))
	}
	return reauth.Refused("run without --resume to start a new run (check that --config is the inventory of the run that stopped)",
		"nothing to resume: no journal of an earlier run (looked for %s)", strings.Join(paths, ", "))
}
