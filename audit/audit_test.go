package audit

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
)

func TestAppendOnly0600NoSecrets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := os.WriteFile(path, []byte(`{"earlier":"line"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fixed := time.Date(2026, 11, 27, 1, 2, 3, 0, time.UTC)
	l, err := Open(path, "run-1", func() time.Time { return fixed })
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Step("jira", "purge", "ok", map[string]any{"deleted": 42, "password": reauth.NewSecret("hunter2"), "step": "overridden?"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), "hunter2") {
		t.Fatal("secret in audit log")
	}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	var lines []map[string]any
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not JSON Lines: %q", sc.Text())
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 || lines[0]["earlier"] != "line" {
		t.Fatalf("earlier line not kept: %v", lines)
	}
	got := lines[1]
	if got["step"] != "purge" || got["deleted"] != float64(42) || got["run_id"] != "run-1" || got["time"] != "2026-11-27T01:02:03Z" || got["operator"] == "" {
		t.Fatalf("line = %v", got)
	}
}
