//go:build linux

// Package ptytest gives tests a real pseudo-terminal and a small screen model of what it shows,
// so that terminal behaviour (lines redrawn in place, a note that must stay visible) is checked
// as an operator would see it, not as escape sequences in a buffer.
package ptytest

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Term is an open pseudo-terminal: programs write to TTY (a terminal for term.IsTerminal), and
// everything the terminal received is collected for Screen.
type Term struct {
	TTY *os.File

	master *os.File
	mu     sync.Mutex
	got    bytes.Buffer
	done   chan struct{}
}

// Open opens a pseudo-terminal, closed at the end of the test.
func Open(t *testing.T) *Term {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal on this machine: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Fatalf("pty number: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Fatalf("open pty: %v", err)
	}
	tm := &Term{TTY: s, master: m, done: make(chan struct{})}
	go tm.read()
	t.Cleanup(func() { s.Close(); m.Close(); <-tm.done })
	return tm
}

func (tm *Term) read() {
	defer close(tm.done)
	buf := make([]byte, 4096)
	for {
		n, err := tm.master.Read(buf)
		tm.mu.Lock()
		tm.got.Write(buf[:n])
		tm.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// Raw is every byte the terminal received so far.
func (tm *Term) Raw() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.got.String()
}

// WaitRaw polls, up to a deadline, until the bytes received hold want (a line that was on
// screen for a moment, since redrawn).
func (tm *Term) WaitRaw(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(tm.Raw(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the terminal never received %q; it shows:\n%s", want, Screen(tm.Raw()))
		}
		time.Sleep(5 * time.Millisecond) // polling a deadline, not synchronising by sleeping
	}
}

// WaitFor polls, up to a deadline, until the screen shows want; it returns the screen.
func (tm *Term) WaitFor(t *testing.T, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		sc := Screen(tm.Raw())
		if strings.Contains(sc, want) {
			return sc
		}
		if time.Now().After(deadline) {
			t.Fatalf("the terminal never showed %q; it shows:\n%s", want, sc)
		}
		time.Sleep(5 * time.Millisecond) // polling a deadline, not synchronising by sleeping
	}
}

// Screen is what a terminal shows after receiving raw: the lines of an unbounded screen, each
// without trailing blanks. It understands what reauth writes: text, CR, LF, cursor up (ESC[nA),
// erase line (ESC[2K, ESC[K) and erase below (ESC[J).
func Screen(raw string) string {
	var (
		lines    = [][]rune{{}}
		row, col int
	)
	put := func(r rune) {
		for len(lines[row]) <= col {
			lines[row] = append(lines[row], ' ')
		}
		lines[row][col] = r
		col++
	}
	rs := []rune(raw)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; {
		case r == '\r':
			col = 0
		case r == '\n':
			row++
			if row == len(lines) {
				lines = append(lines, []rune{})
			}
		case r == 0x1b && i+1 < len(rs) && rs[i+1] == '[':
			j := i + 2
			for j < len(rs) && (rs[j] >= '0' && rs[j] <= '9' || rs[j] == ';') {
				j++
			}
			if j == len(rs) {
				return render(lines)
			}
			arg := string(rs[i+2 : j])
			switch rs[j] {
			case 'A':
				n := 1
				fmt.Sscan(arg, &n)
				row = max(row-n, 0)
			case 'K':
				if arg == "2" {
					lines[row] = []rune{}
				} else if col < len(lines[row]) {
					lines[row] = lines[row][:col]
				}
			case 'J':
				if col < len(lines[row]) {
					lines[row] = lines[row][:col]
				}
				for k := row + 1; k < len(lines); k++ {
					lines[k] = []rune{}
				}
			}
			i = j
		default:
			put(r)
		}
	}
	return render(lines)
}

func render(lines [][]rune) string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimRight(string(l), " ")
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n")
}
