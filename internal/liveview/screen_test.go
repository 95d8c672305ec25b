//go:build linux

package liveview

import (
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth/internal/ptytest"
)

// On a real terminal a note stays on screen while the lines keep being redrawn under it, and a
// line that moved on leaves no stale copy above (the first Ctrl-C's line, a finished purge's).
func TestScreenNoteStaysNoStaleLines(t *testing.T) {
	tm := ptytest.Open(t)
	v := New(tm.TTY, true, []string{"jira", "confluence"}, "waiting")
	v.Update("jira", "purge: batch 1")
	v.Update("confluence", "purge: batch 7")
	v.Note("stop requested: finishing node2 (up to 19m40s); Ctrl-C again abandons it\n")
	v.Update("jira", "node2 restarting")
	v.Update("confluence", "verify")
	v.Update("jira", "node2 stable")
	sc := tm.WaitFor(t, "node2 stable")
	if strings.Count(sc, "stop requested: finishing node2") != 1 {
		t.Fatalf("the note is not on screen exactly once:\n%s", sc)
	}
	for _, stale := range []string{"purge: batch", "node2 restarting", "waiting"} {
		if strings.Contains(sc, stale) {
			t.Fatalf("stale line %q still on screen:\n%s", stale, sc)
		}
	}
	if strings.Count(sc, "jira ") != 1 || strings.Count(sc, "confluence ") != 1 {
		t.Fatalf("each item's line should be on screen once:\n%s", sc)
	}
	if i, j := strings.Index(sc, "stop requested"), strings.Index(sc, "node2 stable"); j < i {
		t.Fatalf("the live lines should be under the note:\n%s", sc)
	}
}

// A line with its own clock shows the time inside its text, not the item's clock after it.
func TestScreenClockInsideTheLine(t *testing.T) {
	tm := ptytest.Open(t)
	v := New(tm.TTY, true, []string{"node2"}, "waiting")
	v.Start("node2", 0)
	v.UpdateClock("node2", "(2/3) STARTING ", time.Now().Add(-31*time.Second), " / timeout 20m (node1 took 4.2s)")
	sc := tm.WaitFor(t, "(node1 took 4.2s)")
	if !strings.Contains(sc, "(2/3) STARTING 31s / timeout 20m (node1 took 4.2s)") {
		t.Fatalf("%s", sc)
	}
	if strings.Contains(sc, "took 4.2s) ") {
		t.Fatalf("the item's own clock is printed after the line:\n%s", sc)
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		4200 * time.Millisecond: "4.2s", 31 * time.Second: "31s", 20 * time.Minute: "20m",
		19*time.Minute + 40*time.Second: "19m40s", time.Hour + 5*time.Minute: "1h5m", -time.Second: "0.0s",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}
