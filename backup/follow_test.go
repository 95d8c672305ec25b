package backup

import (
	"errors"
	"path/filepath"
	"testing"
)

// A Follower started before the rows are written reports exactly what Verify reports on the
// finished file; for a file the writer never finished it fails as Verify does.
func TestFollow(t *testing.T) {
	m := Manifest{Product: "jira", Table: "t", IDColumn: "id", Columns: []Column{{Name: "id", Kind: KindInt}}}
	for _, tc := range []struct {
		name   string
		finish bool
	}{{"closed", true}, {"abandoned", false}} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "b")
			w, err := Create(path, m)
			if err != nil {
				t.Fatal(err)
			}
			fl, err := w.Follow()
			if err != nil {
				t.Fatal(err)
			}
			for i := range int64(3000) {
				if err := w.Append([]any{i}); err != nil {
					t.Fatal(err)
				}
				if i%500 == 0 {
					if err := w.Sync(); err != nil {
						t.Fatal(err)
					}
				}
			}
			if !tc.finish {
				// As a crash leaves it: synced up to the last batch, then the writer is gone.
				w.Sync()
				w.abort()
				if _, err := fl.Wait(); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("follower on an unfinished file: %v", err)
				}
				return
			}
			sum, err := w.Close()
			if err != nil {
				t.Fatal(err)
			}
			got, err := fl.Wait()
			want, verr := Verify(path)
			if err != nil || verr != nil || got != want || got.Rows != 3000 || got.SHA256 != sum.SHA256 {
				t.Fatalf("follower %+v %v, verify %+v %v, writer %+v", got, err, want, verr, sum)
			}
		})
	}
}
