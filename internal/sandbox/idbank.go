package sandbox

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/reauth/reauth"
)

// idBankSize is how many ids a node takes at a time, as Jira's OfBiz sequence banks do (100).
const idBankSize = 100

// idBank is node k's share of the ids when n nodes allocate from interleaved banks: node k owns
// the ids b*size*n + k*size + 1 … b*size*n + (k+1)*size for every b ≥ 0. n is 0 when the sandbox
// allocates max(id)+1 (one sequence for the cluster).
type idBank struct{ k, n int }

// bankOf is node name's bank, or the zero bank when the sandbox has none.
func (st *state) bankOf(name string) idBank {
	if !st.IDBanks {
		return idBank{}
	}
	for i, s := range st.Nodes {
		if s.Name == name {
			return idBank{k: i, n: len(st.Nodes)}
		}
	}
	return idBank{}
}

// next is the first id of this bank above last (the bank's highest id so far, 0 when none).
func (b idBank) next(last int64) int64 {
	stride := int64(idBankSize * b.n)
	first := int64(b.k*idBankSize) + 1
	if last < first {
		return first
	}
	cand := last + 1
	base := (cand - 1) / stride * stride
	switch off := (cand - 1) % stride; {
	case off < int64(b.k*idBankSize):
		return base + first // this node's bank in this round
	case off >= int64((b.k+1)*idBankSize):
		return base + stride + first // this node's bank in the next round
	}
	return cand
}

// insertWithBankID inserts one row whose id is the next one of the node's bank (retrying when
// another request of the same node took it first). Ids of different nodes interleave, so the
// cluster's highest id says nothing about when a row of another node was issued.
func insertWithBankID(ctx context.Context, db *sql.DB, e reauth.Engine, table string, b idBank, cols []string, args ...any) (int64, error) {
	mine := fmt.Sprintf("SELECT COALESCE(MAX(id), 0) FROM %s WHERE id > 0 AND (id - 1) %% %d >= %d AND (id - 1) %% %d < %d",
		table, idBankSize*b.n, b.k*idBankSize, idBankSize*b.n, (b.k+1)*idBankSize)
	return insertRetrying(ctx, db, e, table, cols, args, func() (int64, error) {
		var last int64
		if err := db.QueryRowContext(ctx, mine).Scan(&last); err != nil {
			return 0, fmt.Errorf("next id of %s in this node's bank: %w", table, err)
		}
		return b.next(last), nil
	})
}
