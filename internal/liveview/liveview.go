// Package liveview shows progress as one status line per item (a product of a run, a node of a
// restart): on a terminal the lines are redrawn in place, with each item's elapsed time ticking;
// otherwise every update is a plain line prefixed with the item's name, so that logs of several
// items working at once stay readable. Notes (warnings, results) are permanent lines, printed
// above the live lines on a terminal. Safe for concurrent use.
package liveview

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/reauth/reauth/internal/termsafe"
)

// View is the set of status lines.
type View struct {
	mu      sync.Mutex
	w       io.Writer
	live    bool
	names   []string
	width   int
	lines   map[string]string
	since   map[string]time.Time
	clocks  map[string]clock
	drawn   int
	done    chan struct{}
	stopped sync.WaitGroup
	closed  bool
}

// New makes a view of the named items on w; live says w is a terminal (lines redrawn in place).
func New(w io.Writer, live bool, names []string, initial string) *View {
	v := &View{w: w, live: live, lines: map[string]string{}, since: map[string]time.Time{}, clocks: map[string]clock{}, width: 16}
	for _, n := range names {
		v.names = append(v.names, n)
		v.lines[n] = initial
		v.width = max(v.width, len(termsafe.Field(n)))
	}
	return v
}

// Live reports whether the view redraws lines in place.
func (v *View) Live() bool { return v.live }

// Update sets an item's status. Plain: one line "name: text". Live: the item's line shows text,
// with the time since its clock started (Start) while it runs.
func (v *View) Update(name, text string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.live || v.closed {
		fmt.Fprintf(v.w, "%s: %s\n", termsafe.Field(name), termsafe.Field(text))
		return
	}
	v.lines[name] = termsafe.Field(text)
	delete(v.clocks, name)
	v.redraw()
}

// clock is a line whose own elapsed time sits inside its text: before, the time since start,
// after ("node2 (2/3) STARTING 31s / timeout 20m").
type clock struct {
	before, after string
	start         time.Time
}

// UpdateClock sets an item's status to before + the time since start + after, the time ticking
// on a terminal in place of the item's own clock (Start): the operator reads how long this one
// step has taken, beside its limit. Plain output prints the line once, with the time at the call.
func (v *View) UpdateClock(name, before string, start time.Time, after string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.live || v.closed {
		fmt.Fprintf(v.w, "%s: %s%s%s\n", termsafe.Field(name), termsafe.Field(before), Duration(time.Since(start)), termsafe.Field(after))
		return
	}
	v.clocks[name] = clock{before: termsafe.Field(before), after: termsafe.Field(after), start: start}
	v.redraw()
}

// Duration is d as an operator reads it: tenths under 10s ("4.2s"), whole seconds above, and no
// zero units ("20m", "19m40s", "1h5m").
func Duration(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.1fs", max(d, 0).Seconds())
	}
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Start starts (or, with a zero elapsed, restarts) the clock an item's live line shows:
// it began elapsed ago.
func (v *View) Start(name string, elapsed time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.since[name]; !ok {
		v.since[name] = time.Now().Add(-elapsed)
	}
}

// Finish stops an item's clock and sets its final status.
func (v *View) Finish(name, text string) {
	v.mu.Lock()
	delete(v.since, name)
	delete(v.clocks, name)
	v.mu.Unlock()
	v.Update(name, text)
}

// Note prints a permanent line (above the live lines on a terminal). Text is printed as given:
// the caller escapes what comes from outside.
func (v *View) Note(text string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.note(text)
}

func (v *View) note(text string) {
	if !v.live || v.closed {
		io.WriteString(v.w, text)
		return
	}
	// The note takes the live lines' place and they are drawn again under it: printed below
	// them, it would leave a stale copy of every line above it, and the next redraw (counting
	// lines from the cursor) would overwrite the note itself.
	if v.drawn > 0 {
		fmt.Fprintf(v.w, "\x1b[%dA\x1b[J", v.drawn)
	}
	io.WriteString(v.w, text)
	v.drawn = 0
	v.redraw()
}

// Writer is a stream for one item's messages (warnings, results): each Write is one note, kept
// whole (a warning and its hint stay together) and, on plain output, prefixed with the item's
// name when its first line does not already name it.
func (v *View) Writer(name string) io.Writer { return &itemWriter{v: v, name: name} }

type itemWriter struct {
	v    *View
	name string
}

func (iw *itemWriter) Write(b []byte) (int, error) {
	text := string(b)
	if !bytes.HasSuffix(b, []byte("\n")) {
		text += "\n"
	}
	if !names(text, iw.name) {
		text = termsafe.Field(iw.name) + ": " + text
	}
	iw.v.Note(text)
	return len(b), nil
}

// names reports whether a message already starts with the item's name ("jira: …", "jira node1: …",
// "warning: jira: …").
func names(text, name string) bool {
	text = strings.TrimPrefix(text, "warning: ")
	return strings.HasPrefix(text, name+":") || strings.HasPrefix(text, name+" ")
}

// redraw rewrites the live lines in place (cursor up, clear line). Caller holds mu.
func (v *View) redraw() {
	if !v.live || v.closed {
		return
	}
	var b strings.Builder
	if v.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", v.drawn)
	}
	for _, n := range v.names {
		text := v.lines[n]
		if c, ok := v.clocks[n]; ok {
			text = c.before + Duration(time.Since(c.start)) + c.after
		} else if t, ok := v.since[n]; ok && !t.IsZero() {
			text += fmt.Sprintf(" %.0fs", time.Since(t).Seconds())
		}
		fmt.Fprintf(&b, "\x1b[2K  %-*s %s\n", v.width, termsafe.Field(n), text)
	}
	v.drawn = len(v.names)
	io.WriteString(v.w, b.String())
}

// Run draws the lines and ticks the elapsed times every second until Close (terminal only).
func (v *View) Run() {
	if !v.live {
		return
	}
	v.mu.Lock()
	v.redraw()
	v.mu.Unlock()
	v.done = make(chan struct{})
	v.stopped.Add(1)
	go func() {
		defer v.stopped.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-v.done:
				return
			case <-t.C:
				v.mu.Lock()
				v.redraw()
				v.mu.Unlock()
			}
		}
	}()
}

// Close stops the ticking after a last redraw; later updates and notes are plain lines.
func (v *View) Close() {
	if v.done != nil {
		close(v.done)
		v.stopped.Wait()
		v.done = nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.redraw()
	v.closed = true
}
