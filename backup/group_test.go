package backup

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

// Several goroutines writing batches through one Group: every row ends up in the file exactly
// once and the file verifies; an fsync error fails that round's batches and every later one,
// without appending anything more.
func TestGroup(t *testing.T) {
	m := Manifest{Product: "jira", Table: "t", IDColumn: "id", Columns: []Column{{Name: "id", Kind: KindInt}, {Name: "tok", Kind: KindString}}}
	for _, tc := range []struct {
		name     string
		failAt   int // the fsync round that fails (0: none)
		wantRows int64
	}{{"ok", 0, 8 * 25 * 3}, {"fsync fails", 4, -1}} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "b")
			w, err := Create(path, m)
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			round := 0
			g := NewGroup(w, func() error {
				mu.Lock()
				defer mu.Unlock()
				if round++; round == tc.failAt {
					return errors.New("injected")
				}
				return nil
			})
			var wg sync.WaitGroup
			var durable, failed int64
			for worker := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					b := w.NewBatch()
					for batch := range 25 {
						b.Reset()
						for r := range 3 {
							id := int64(worker*1000 + batch*10 + r)
							if err := b.Row([]any{id, fmt.Sprint("t", id)}); err != nil {
								t.Error(err)
								return
							}
						}
						err := g.Write(b)
						mu.Lock()
						if err == nil {
							durable += 3
						} else {
							failed += 3
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			g.Stop()
			sum, err := w.Close()
			if err != nil {
				t.Fatal(err)
			}
			syncs, batches := g.Stats()
			t.Logf("%d batches in %d fsyncs; %d rows durable, %d failed", batches, syncs, durable, failed)
			if tc.failAt == 0 && (durable != tc.wantRows || sum.Rows != tc.wantRows || g.Err() != nil) {
				t.Fatalf("durable %d, file %d rows, err %v", durable, sum.Rows, g.Err())
			}
			if tc.failAt > 0 && (g.Err() == nil || failed == 0 || sum.Rows >= durable+failed || sum.Rows < durable) {
				t.Fatalf("after a failed fsync: durable %d failed %d, file %d rows, err %v", durable, failed, sum.Rows, g.Err())
			}
			v, err := Verify(path)
			if err != nil || v.Rows != sum.Rows {
				t.Fatalf("verify %+v %v", v, err)
			}
		})
	}
}
