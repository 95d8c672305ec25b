package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A port reserved by a live sandbox is never handed to another one, even while the node that
// owns it is down (restarting); a reservation whose sandbox directory is gone is taken over.
func TestPortReservations(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(a, stateFile), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	ports, err := freePorts(2, a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { releasePorts(a, ports); releasePorts(b, ports) })
	for _, p := range ports {
		if ok, err := reserve(p, b); ok || err != nil {
			t.Fatalf("port %d of a live sandbox reserved again for another: %v %v", p, ok, err)
		}
	}
	// a's directory goes (t.TempDir cleanup, rm -rf without sandbox down): its ports are free.
	if err := os.Remove(filepath.Join(a, stateFile)); err != nil {
		t.Fatal(err)
	}
	if ok, err := reserve(ports[0], b); !ok || err != nil {
		t.Fatalf("stale reservation not taken over: %v %v", ok, err)
	}
	got, _ := os.ReadFile(reservation(ports[0]))
	if strings.TrimSpace(string(got)) != b {
		t.Fatalf("reservation names %q, want %q", got, b)
	}
}

// Up reserves its nodes' ports for as long as the sandbox exists.
func TestUpReservesPorts(t *testing.T) {
	c := up(t, Options{Product: "jira", Nodes: 2, Users: 1})
	for _, n := range c.st.Nodes {
		got, err := os.ReadFile(reservation(n.Port))
		if err != nil || strings.TrimSpace(string(got)) != c.Dir() {
			t.Fatalf("port %d of %s: reservation %q, %v", n.Port, n.Name, got, err)
		}
	}
}
