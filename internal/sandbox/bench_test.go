package sandbox

import (
	"context"
	"os"
	"testing"

	"github.com/reauth/reauth/atlassian"
)

// BenchmarkUp measures `sandbox up` of 3 Jira nodes with 100 users logged in through the form
// (target: well under 10 s), per engine. Run: go test -run XXX -bench Up -benchtime 3x ./sandbox
func BenchmarkUp(b *testing.B) {
	exe, _ := os.Executable()
	for _, engine := range []string{"sqlite", "postgres", "mariadb"} {
		b.Run(engine, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				url := testDB(b, engine)
				dir := b.TempDir()
				b.StartTimer()
				c, err := Up(context.Background(), Options{Dir: dir, Product: atlassian.Jira, Nodes: 3, Users: 100, DB: url, Exe: exe}, nil)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := c.Down(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}
