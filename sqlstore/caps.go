package sqlstore

import (
	"context"
	"database/sql"
	"time"
)

// caps is what an engine can do beyond the SQL text of the Dialect methods. The purge reads
// these instead of asking which engine it is talking to: engine knowledge lives in the dialects.
type caps struct {
	// oneWriter: the database takes one writing transaction at a time (a second purge worker
	// would only wait, or fail busy).
	oneWriter bool
	// rangedDelete: a batch may be DELETE … RETURNING over an id range (lo, hi] with no LIMIT
	// subquery; the window was probed to hold at most one batch.
	rangedDelete bool
	// textBatches: batches may run through pgx's text protocol (pgtext.go) without
	// database/sql's per-value decoding.
	textBatches bool
	// names: the purge connections may hold long user lists in temporary tables (nil: the
	// inline list).
	names nameTabler
	// refine re-reads the dialect from the server it connected to (nil: nothing to learn).
	refine func(ctx context.Context, h *sql.DB) Dialect
	// batchTarget is the lock time an adaptive batch aims at (0: TargetBatchTime), and workers
	// how many batches run at once by default (0: DefaultWorkers).
	batchTarget time.Duration
	workers     int
	// deleteSlots bounds how many of the workers' batches run their DELETE at once (0: all).
	deleteSlots int
}

func (d Postgres) caps() caps { return caps{rangedDelete: true, textBatches: true, names: d} }
func (SQLite) caps() caps     { return caps{oneWriter: true, rangedDelete: true} }
func (SQLServer) caps() caps  { return caps{} }
func (Oracle) caps() caps     { return caps{} }

// MySQL: JDBC URLs often say mysql for a MariaDB server, so the server is asked what it is.
// MariaDB (10.2+ may name one temporary table several times in a query; MySQL may not, and keeps
// the inline list) holds long name lists in temporary tables.
//
// InnoDB's batches are shorter, and more workers overlap their fixed part (InnoDBTargetBatchTime,
// innoDBWorkers, two delete slots). On a 1M-row Jira table (bench/purge, MariaDB 10.11, 2 cores)
// a DELETE's time has a tail of two to three times its median (InnoDB's purge threads and page
// flushing, and the other batch, share the index pages and the CPU): batches aimed at 50 ms
// reached 103-157 ms. Aimed at 30 ms, two workers stayed under 100 ms in most runs but took
// 1.2 times as long: the backup's fsync and the commit's redo fsync are a third of a 30 ms
// batch. A third worker makes up that time; a third DELETE at once only lengthened all three
// (up to 168 ms, and the login p99 up by a third), so only two are in their DELETE at a time
// while the third writes its backup and commits.
func (d MySQL) caps() caps {
	c := caps{refine: func(ctx context.Context, h *sql.DB) Dialect { return detectMariaDB(ctx, h, d) },
		batchTarget: InnoDBTargetBatchTime, workers: innoDBWorkers, deleteSlots: 2}
	if d.MariaDB {
		c.names = d
	}
	return c
}
