//go:build linux

package cli

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/ptytest"
)

// On a real terminal, the first Ctrl-C's line says which node is still finished and for how
// long at most, and stays on screen while that node's line keeps being redrawn under it; the
// node's line says which of how many it is and its timeout (#31 items 2, 3).
func TestRestartScreenStopLineStays(t *testing.T) {
	_, cfg := restartSandbox(t, 3)
	tm := ptytest.Open(t)
	stop, fire := reauth.NewStop()
	home := testStateHome(t)
	env := func(k string) string {
		if k == "XDG_STATE_HOME" {
			return home
		}
		return os.Getenv(k)
	}
	var out bytes.Buffer
	code := make(chan int, 1)
	go func() {
		code <- Run(context.Background(), []string{"restart", "--config", cfg, "--yes"},
			IO{In: strings.NewReader(""), Out: &out, Err: tm.TTY, ErrTTY: true, Getenv: env, Stop: stop})
	}()
	tm.WaitFor(t, "(1/3) restarting")
	fire()
	if c := <-code; c != int(reauth.ExitInterrupted) {
		t.Fatalf("exit %d\n%s\n%s", c, out.String(), ptytest.Screen(tm.Raw()))
	}
	sc := tm.WaitFor(t, "(1/3) restarted after")
	if strings.Count(sc, "stop requested: finishing node1 (up to ") != 1 || !strings.Contains(sc, "Ctrl-C again abandons it") {
		t.Fatalf("the stop line is not on screen once:\n%s", sc)
	}
	if strings.Contains(sc, "(1/3) restarting") || strings.Count(sc, "(1/3)") != 1 || !strings.Contains(sc, "node2            waiting") {
		t.Fatalf("stale or missing node lines:\n%s", sc)
	}
}
