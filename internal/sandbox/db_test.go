package sandbox

import (
	"context"
	"sync"
	"testing"
)

// TestNodePoolKeepsConnections: a node's pool keeps the connections a burst opened, as a
// product's pool does (Jira's pool-max-idle equals its pool-max-size). With database/sql's
// default of 2 idle, each burst closed the rest and the next opened them again: the server's
// CPU went to starting connections, and every benchmark on the sandbox measured that.
func TestNodePoolKeepsConnections(t *testing.T) {
	for _, engine := range []string{"postgres", "mariadb"} {
		t.Run(engine, func(t *testing.T) {
			tg, err := parseDBURL(testDB(t, engine), "")
			if err != nil {
				t.Fatal(err)
			}
			db, err := tg.open(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			const burst = 6
			sleep := "SELECT pg_sleep(0.2)"
			if engine == "mariadb" {
				sleep = "SELECT SLEEP(0.2)"
			}
			for round := 0; round < 2; round++ {
				var wg sync.WaitGroup
				errs := make(chan error, burst)
				for range burst {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if _, err := db.Exec(sleep); err != nil {
							errs <- err
						}
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Fatal(err)
				}
			}
			s := db.Stats()
			if s.Idle != burst || s.MaxIdleClosed != 0 || s.OpenConnections != burst {
				t.Errorf("after two bursts of %d queries: %d open, %d idle, %d closed for want of idle room; want %d, %d, 0",
					burst, s.OpenConnections, s.Idle, s.MaxIdleClosed, burst, burst)
			}
		})
	}
}
