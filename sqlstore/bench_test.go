package sqlstore

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkPurge measures one verified purge of 100,000 Jira tokens per engine and batch size
// (0: adaptive; the seeding is not timed), and where the batches over the high water mark spent
// their lock time on average (slow-*-ms: the delete and reading its rows, the backup write until
// fsynced, the commit). Run: go test -run '^$' -bench Purge ./sqlstore/
func BenchmarkPurge(b *testing.B) {
	const rows = 100000
	for _, e := range []struct {
		name string
		open func(testing.TB) target
		seed string
	}{
		{"postgres", pgTarget, "INSERT INTO remembermetoken SELECT g, now() - g * interval '1 second', md5(g::text), 'user' || (g %% 1000) FROM generate_series(1, %d) g"},
		{"mariadb", mariaTarget, "INSERT INTO remembermetoken SELECT seq, NOW() - INTERVAL seq SECOND, MD5(seq), CONCAT('user', seq %% 1000) FROM seq_1_to_%d"},
	} {
		for _, batch := range []int{0, 1000, 2000, 5000} {
			b.Run(fmt.Sprintf("%s/batch=%d", e.name, batch), func(b *testing.B) {
				tg := e.open(b)
				for _, s := range jiraDDL(tg) {
					if _, err := tg.sql.Exec(s); err != nil {
						b.Fatal(err)
					}
				}
				var logs syncBuffer
				s, err := Open(b.Context(), tg.db, product(b, "jira"), Options{Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				dir := b.TempDir()
				var maxMS float64
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					if _, err := tg.sql.Exec(fmt.Sprintf(e.seed, rows)); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					t0 := time.Now()
					res, err := s.Purge(b.Context(), PurgeOptions{BatchSize: batch, BackupPath: filepath.Join(dir, fmt.Sprint(i))})
					if err != nil || res.Deleted != rows {
						b.Fatalf("%+v %v", res, err)
					}
					b.ReportMetric(float64(rows)/time.Since(t0).Seconds(), "rows/s")
					maxMS = max(maxMS, res.MaxBatchMS)
				}
				b.ReportMetric(maxMS, "max_batch_ms")
				var slow, del, bak, com float64
				for _, line := range strings.Split(logs.String(), "\n") {
					var l struct {
						Msg                    string
						Delete, Backup, Commit float64
					}
					if json.Unmarshal([]byte(strings.NewReplacer(`"delete_ms"`, `"Delete"`, `"backup_ms"`, `"Backup"`, `"commit_ms"`, `"Commit"`).Replace(line)), &l) == nil && l.Msg == "slow batch" {
						slow++
						del, bak, com = del+l.Delete, bak+l.Backup, com+l.Commit
					}
				}
				b.ReportMetric(slow, "slow-batches")
				if slow > 0 {
					b.ReportMetric(del/slow, "slow-delete-ms")
					b.ReportMetric(bak/slow, "slow-backup-ms")
					b.ReportMetric(com/slow, "slow-commit-ms")
				}
			})
		}
	}
}
