package liveview

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// Plain output: one whole line per update or note, each naming its item, even when items write
// at once; a note that names its item is not named twice.
func TestPlainLinesNameTheirItem(t *testing.T) {
	var b bytes.Buffer
	v := New(&b, false, []string{"jira", "confluence"}, "waiting")
	var wg sync.WaitGroup
	for _, item := range []string{"jira", "confluence"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := v.Writer(item)
			for i := range 50 {
				v.Update(item, fmt.Sprintf("purge: batch %d", i))
				fmt.Fprintf(w, "warning: something\n  hint: do this\n")
			}
			fmt.Fprintf(w, "%s: purged 3 token(s)\n", item)
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2*(50*3+1) {
		t.Fatalf("%d lines", len(lines))
	}
	for i, l := range lines {
		if strings.HasPrefix(l, "  hint: ") {
			if !strings.HasSuffix(lines[i-1], ": warning: something") {
				t.Fatalf("a hint apart from its warning: %q after %q", l, lines[i-1])
			}
			continue
		}
		if !strings.HasPrefix(l, "jira: ") && !strings.HasPrefix(l, "confluence: ") || strings.Contains(l, "jira: jira:") {
			t.Fatalf("line %q", l)
		}
	}
	if strings.Contains(b.String(), "\x1b") {
		t.Fatal("escape sequences on plain output")
	}
}

// On a terminal the items' lines are redrawn in place; a note goes above them; names from
// outside are escaped.
func TestLiveRedraw(t *testing.T) {
	var b bytes.Buffer
	v := New(&b, true, []string{"jira", "evil\x1b[2J"}, "waiting")
	v.Update("jira", "purge")
	v.Update("jira", "node1: restarting")
	v.Note("jira: purged 3 token(s)\n")
	out := b.String()
	if strings.Count(out, "\x1b[2A") != 2 || !strings.Contains(out, "jira             node1: restarting") || strings.Contains(out, "\x1b[2J") {
		t.Fatalf("%q", out)
	}
	if i, j := strings.Index(out, "purged 3"), strings.LastIndex(out, "node1: restarting"); i < 0 || j < i {
		t.Fatalf("the lines are not drawn again under the note: %q", out)
	}
	v.Close()
	b.Reset()
	v.Update("jira", "done")
	if b.String() != "jira: done\n" {
		t.Fatalf("after Close: %q", b.String())
	}
}
