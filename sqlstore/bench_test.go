package sqlstore

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkPurge measures one verified purge of 100,000 Jira tokens per engine and batch size
// (the seeding is not timed). Run: go test -run '^$' -bench Purge ./sqlstore/
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
		for _, batch := range []int{1000, 2000, 5000} {
			b.Run(fmt.Sprintf("%s/batch=%d", e.name, batch), func(b *testing.B) {
				tg := e.open(b)
				for _, s := range jiraDDL(tg) {
					if _, err := tg.sql.Exec(s); err != nil {
						b.Fatal(err)
					}
				}
				s, err := Open(b.Context(), tg.db, product(b, "jira"), Options{})
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
			})
		}
	}
}
