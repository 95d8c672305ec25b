package sqlstore

import (
	"strings"
	"testing"

	"github.com/reauth/reauth"
)

// A colleague whose run finds the lock held is told who holds it and what that run is doing
// (#31 item 7): PostgreSQL shows the lock session's application_name, SQLite its lock file.
func TestLockHolderNote(t *testing.T) {
	for _, tc := range []struct {
		name string
		tg   func(testing.TB) target
	}{{"postgres", pgTarget}, {"sqlite", sqliteTarget}} {
		t.Run(tc.name, func(t *testing.T) {
			tg := tc.tg(t)
			setupJira(t, tg, 1)
			a, b := openStore(t, tg, "jira", Options{}), openStore(t, tg, "jira", Options{})
			ctx := ctxT(t)
			release, err := a.Lock(ctx, "run")
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			note := Holder{User: "alice", TTY: "pts/3", Command: "run"}.Note("awaiting confirmation")
			a.LockNote(ctx, note)
			_, err = b.Lock(ctx, "run")
			if reauth.CodeOf(err) != reauth.ExitLocked || !strings.Contains(err.Error(), "reauth run by alice on pts/3: awaiting confirmation") {
				t.Fatalf("%v (code %d)", err, reauth.CodeOf(err))
			}
			a.LockNote(ctx, Holder{User: "alice", Command: "run"}.Note("purge"))
			if _, err = b.Lock(ctx, "run"); err == nil || !strings.Contains(err.Error(), "reauth run by alice: purge") {
				t.Fatalf("the phase did not follow: %v", err)
			}
		})
	}
}

func TestHolderNoteFits(t *testing.T) {
	n := Holder{User: strings.Repeat("ü", 40), TTY: "pts/3", Command: "run\x1b[2J"}.Note("awaiting confirmation")
	if len(n) > 63 || strings.ContainsRune(n, 0x1b) || !strings.HasPrefix(n, "reauth run?[2J by ü") {
		t.Fatalf("%q (%d bytes)", n, len(n))
	}
}
