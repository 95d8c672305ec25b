package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// What Log writes, Read reads back: the common fields, the others by name; lines that are not
// reauth's are skipped, a damaged line is an error naming its number, and a last line cut short by
// a crash is skipped.
func TestReadBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := os.WriteFile(path, []byte(`{"earlier":"line"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 27, 1, 2, 3, 456789000, time.UTC)
	l, err := Open(path, "run-1", func() time.Time { return at })
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Step("jira", "purge", "ok", map[string]any{"deleted": 42, "nodes": []string{"node1"}}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o600)
	f.WriteString(`{"run_id":"run-1","step":"verify","outcome":"ok","tim`) // killed mid-line
	f.Close()

	rd, _ := os.Open(path)
	defer rd.Close()
	es, err := Read(rd)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 {
		t.Fatalf("entries: %+v", es)
	}
	e := es[0]
	var deleted int64
	var nodes []string
	if e.Line != 2 || !e.Time.Equal(at) || e.RunID != "run-1" || e.Product != "jira" || e.Step != "purge" || e.Outcome != "ok" ||
		e.Operator == "" || !e.Get("deleted", &deleted) || deleted != 42 || !e.Get("nodes", &nodes) || nodes[0] != "node1" || e.Get("absent", &deleted) {
		t.Fatalf("entry: %+v", e)
	}

	_, err = Read(strings.NewReader(`{"run_id":"r","step":"lock"}` + "\nnot json\n" + `{"run_id":"r","step":"purge"}` + "\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("damaged line: %v", err)
	}
	_, err = Read(strings.NewReader(`{"run_id":"r","step":"lock","time":"yesterday"}` + "\n"))
	if err == nil || !strings.Contains(err.Error(), "yesterday") {
		t.Fatalf("bad time: %v", err)
	}
}
