package sqlstore

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"
	"unicode/utf8"
)

// Holder is who holds a run lock, as a colleague who finds it held needs to know: the user, the
// terminal and the command, and (LockNote) what the run is doing now.
type Holder struct {
	User, TTY, Command string
}

// CurrentHolder is this process as a lock holder: the login user, the terminal on stdin ("" when
// none) and command (the verb, "run").
func CurrentHolder(command string) Holder {
	h := Holder{User: os.Getenv("USER"), Command: command}
	if u, err := user.Current(); err == nil {
		h.User = u.Username
	}
	if t, err := os.Readlink("/proc/self/fd/0"); err == nil && strings.HasPrefix(t, "/dev/") && !strings.HasPrefix(t, "/dev/null") {
		h.TTY = strings.TrimPrefix(t, "/dev/")
	}
	return h
}

// Note is the holder and its phase in at most 63 bytes (PostgreSQL's application_name):
// "reauth run by alice on pts/3: awaiting confirmation".
func (h Holder) Note(phase string) string {
	s := "reauth " + h.Command
	if h.User != "" {
		s += " by " + h.User
	}
	if h.TTY != "" {
		s += " on " + h.TTY
	}
	if phase != "" {
		s += ": " + phase
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	for len(s) > 63 {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s
}

// LockNote records what the run holding this store's lock is doing (Holder.Note), where a
// colleague's run that finds the lock held reads it: PostgreSQL's application_name of the lock's
// session, SQLite's lock file. Engines with no such place ignore it. Best effort: a note that
// cannot be written does not stop the run.
func (s *Store) LockNote(ctx context.Context, note string) {
	if s.parent != nil {
		s.parent.LockNote(ctx, note)
		return
	}
	s.lockMu.Lock()
	l := s.lock
	s.lockMu.Unlock()
	if l == nil || l.held.note == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := l.held.note(cctx, note); err != nil {
		s.log.Info("lock note not written", "err", err)
	}
}

// fileNote is SQLite's lock file text: the process, its host, since when, and the note.
func fileNote(f *os.File, since time.Time, note string) error {
	host, _ := os.Hostname()
	text := fmt.Sprintf("pid %d on %s since %s", os.Getpid(), host, since.UTC().Format(time.RFC3339))
	if note != "" {
		text += ": " + note
	}
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(text), 0)
	return err
}
