package runbook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/reauth/reauth/backup"
)

// hasRowCookies: this process holds minted or sampled cookies (a run that did not resume).
func (u *unit) hasRowCookies() bool {
	for _, c := range u.proof {
		if c.rowID != 0 {
			return true
		}
	}
	return false
}

// proofFromBackups rebuilds the cookies of the rows the run's journal lists (minted and sampled
// rows every node accepted before the purge) from the run's backups, which hold those rows: the
// proof of a resumed run or of `reauth verify`. The journal holds only their ids; the values are
// read into memory and replayed, never written anywhere.
func (u *unit) proofFromBackups(ctx context.Context) {
	pr := &u.report.Verify.Proof
	ids := map[int64]bool{}
	for _, id := range u.journal.ProofIDs {
		ids[id] = true
	}
	for _, c := range u.proof {
		delete(ids, c.rowID)
	}
	if len(ids) == 0 {
		return
	}
	pc, why := u.proofFormat()
	if why != "" {
		pr.Sampled.Note = why
		return
	}
	var notes []string
	found := 0
	for _, path := range u.journal.Backups {
		if ctx.Err() != nil || len(ids) == 0 {
			break
		}
		k, err := u.rowsFromBackup(path, ids, pc.Value)
		found += k
		if err != nil {
			notes = append(notes, err.Error())
		}
	}
	pr.Sampled.From = "backup"
	users := map[string]bool{}
	for _, c := range u.proof {
		if c.source == SourceSampled {
			users[c.user] = true
			pr.Sampled.Taken++
		}
	}
	pr.Sampled.Users = len(users)
	if len(ids) > 0 {
		notes = append(notes, fmt.Sprintf("%d of the run's proof row(s) are not in its backups", len(ids)))
	}
	pr.Sampled.Note = strings.Join(notes, "; ")
	u.step("proof-rebuild", "ok", map[string]any{"from_backups": found, "missing": len(ids)})
}

// rowsFromBackup adds a proof cookie for every row of the backup whose id is in ids (and
// removes it from ids).
func (u *unit) rowsFromBackup(path string, ids map[int64]bool, value func(id int64, series, token string) string) (int, error) {
	r, err := backup.Open(path)
	if err != nil {
		return 0, fmt.Errorf("read backup %s: %w", path, err)
	}
	defer r.Close()
	m := r.Manifest()
	col := func(name string) int {
		for i, c := range m.Columns {
			if strings.EqualFold(c.Name, name) {
				return i
			}
		}
		return -1
	}
	pc, _ := u.proofFormat()
	iID, iTok, iUser := col(m.IDColumn), col(pc.TokenColumn), col(u.store.Table().User)
	iSeries := -1
	if pc.SeriesColumn != "" {
		iSeries = col(pc.SeriesColumn)
	}
	if iID < 0 || iTok < 0 {
		return 0, fmt.Errorf("backup %s has no %s or %s column", path, m.IDColumn, pc.TokenColumn)
	}
	found := 0
	for len(ids) > 0 {
		row, err := r.Next()
		if errors.Is(err, io.EOF) || (err == nil && row == nil) {
			return found, nil // the end, or a truncated tail: what was read is used
		}
		if err != nil { // e.g. an encrypted backup and no identity to read it with
			return found, fmt.Errorf("read the proof rows from backup %s: %w", path, err)
		}
		id, ok := row[iID].(int64)
		if !ok || !ids[id] {
			continue
		}
		delete(ids, id)
		token, _ := row[iTok].(string)
		series := ""
		if iSeries >= 0 {
			series, _ = row[iSeries].(string)
		}
		user := ""
		if iUser >= 0 {
			user = fmt.Sprint(row[iUser])
		}
		src := SourceSampled
		if u.isMinted(id) {
			src, user = SourceMinted, u.journal.ProofUser
		}
		// Every node accepted it before the purge (that is why the journal lists it).
		c := &proofCookie{source: src, user: user, rowID: id, cookie: &http.Cookie{Name: u.proofCookieName(), Value: value(id, series, token)}}
		u.proof = append(u.proof, c)
		found++
	}
	return found, nil
}

// isMinted reports whether the row id is the run's minted proof token. A journal written before
// MintedID was recorded only knows that minted ids are negative.
func (u *unit) isMinted(id int64) bool {
	j := u.journal
	if j.MintedID != 0 {
		return id == j.MintedID
	}
	return id == j.ProofRowID || id < 0
}
