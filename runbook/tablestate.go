package runbook

import (
	"encoding/json"

	"github.com/reauth/reauth/backup"
)

// TableState is one token table's purge in the run journal, by ids, counts and file names only:
// its cut-off, what it deleted (and, for the product's token table, kept), and its backup parts.
type TableState struct {
	// Table names a further table (Crowd's cwd_remember_me_token); empty for the token table, and
	// in a further table's state read from a journal of a release that did not record the name.
	Table    string `json:"table,omitempty"`
	CutoffID int64  `json:"cutoff_id"`
	// Done: a further table's purge finished (the token table's is PhasePurged).
	Done    bool     `json:"done,omitempty"`
	Deleted int64    `json:"deleted"`
	Kept    int64    `json:"kept"`
	Backups []string `json:"backups"`
	SHA256  []string `json:"sha256"` // one per backup, in order ("" where not known)
	// BackupFiles is every backup part with its rows and digest: a part cut short by a killed
	// run is surveyed (and recorded) by the run that resumes it.
	BackupFiles []backup.Part `json:"backup_files,omitempty"`
}

// companionFields are the journal fields in which releases before Tables recorded Crowd's
// companion table (one further table, name not recorded).
type companionFields struct {
	CutoffID int64         `json:"companion_cutoff_id"`
	Done     bool          `json:"companion_done"`
	Deleted  int64         `json:"companion_deleted"`
	Backups  []string      `json:"companion_backups"`
	SHA256   []string      `json:"companion_sha256"`
	Files    []backup.Part `json:"companion_backup_files"`
}

// readCompanionFields turns an older release's companion_* fields into a Tables entry, so that a
// run that release left in progress resumes with its cut-off and backups. The entry's table is
// named when the unit opens its tables (further, by name).
func (j *Journal) readCompanionFields(b []byte) error {
	var c companionFields
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	if c.CutoffID == 0 && !c.Done && c.Deleted == 0 && len(c.Backups) == 0 || len(j.Tables) > 0 {
		return nil
	}
	j.Tables = append(j.Tables, TableState{CutoffID: c.CutoffID, Done: c.Done, Deleted: c.Deleted,
		Backups: c.Backups, SHA256: c.SHA256, BackupFiles: c.Files})
	return nil
}

// further is the journal's state of the further table named name: its entry, an older release's
// unnamed one (then named), or a new one.
func (j *Journal) further(name string) *TableState {
	for i := range j.Tables {
		if j.Tables[i].Table == name {
			return &j.Tables[i]
		}
	}
	for i := range j.Tables {
		if j.Tables[i].Table == "" {
			j.Tables[i].Table = name
			return &j.Tables[i]
		}
	}
	j.Tables = append(j.Tables, TableState{Table: name})
	return &j.Tables[len(j.Tables)-1]
}
