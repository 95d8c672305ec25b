package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chainedLog writes a legacy line, then five lines from two logs open on the same file at once
// (two runs appending to one audit log), and returns the file's lines.
func chainedLog(t *testing.T) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := os.WriteFile(path, []byte(`{"run_id":"old","step":"run","outcome":"started"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := Open(path, "run-a", time.Now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(path, "run-b", time.Now)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range []*Log{a, b, a, b, a} {
		if err := l.Step("jira", "purge", "ok", map[string]any{"i": i, PrevField: "spoofed"}); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	b.Close()
	raw, _ := os.ReadFile(path)
	return strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
}

func TestChainIntactAcrossTwoWriters(t *testing.T) {
	lines := chainedLog(t)
	es, ch, err := ReadChain(strings.NewReader(strings.Join(lines, "\n") + "\n"))
	if err != nil || len(es) != 6 {
		t.Fatalf("read: %d entries, %v", len(es), err)
	}
	if !ch.Intact() || ch.From != 2 || ch.Lines != 6 {
		t.Errorf("chain %+v, want intact from line 2 over 6 lines", ch)
	}
	if strings.Contains(lines[1], "spoofed") {
		t.Errorf("a caller's field replaced the link: %s", lines[1])
	}
}

// TestChainBreaks: an edited, removed or inserted line, or lines cut from the top, each break
// the link at the line after it; the break names that line.
func TestChainBreaks(t *testing.T) {
	lines := chainedLog(t)
	edit := func(f func([]string) []string) string {
		return strings.Join(f(append([]string(nil), lines...)), "\n") + "\n"
	}
	for _, tc := range []struct {
		name string
		log  string
		line int
	}{
		{"edited", edit(func(l []string) []string { l[2] = strings.Replace(l[2], `"i":1`, `"i":7`, 1); return l }), 4},
		{"removed", edit(func(l []string) []string { return append(l[:2], l[3:]...) }), 3},
		{"inserted", edit(func(l []string) []string {
			return append(l[:3], append([]string{`{"run_id":"x","step":"purge","outcome":"ok"}`}, l[3:]...)...)
		}), 4},
		{"top cut", edit(func(l []string) []string { return l[2:] }), 1},
	} {
		_, ch, err := ReadChain(strings.NewReader(tc.log))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(ch.Breaks) == 0 || ch.Breaks[0].Line != tc.line {
			t.Errorf("%s: breaks %+v, want the first at line %d", tc.name, ch.Breaks, tc.line)
		}
	}
}

func TestLastLineOfLongFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	long := `{"x":"` + strings.Repeat("y", 10000) + `"}`
	if err := os.WriteFile(path, []byte("{}\n"+long+"\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	got, err := lastLine(f)
	if err != nil || !bytes.Equal(got, []byte(long)) {
		t.Errorf("lastLine = %.40q… (%d bytes), %v", got, len(got), err)
	}
}
