// Package syncio has the one writer that several goroutines may share: each Write whole, one at a
// time (command output of parallel SSH sessions, progress of products working at once).
package syncio

import (
	"io"
	"sync"
)

// Writer serializes writes to W.
type Writer struct {
	mu sync.Mutex
	W  io.Writer
}

// NewWriter wraps w.
func NewWriter(w io.Writer) *Writer { return &Writer{W: w} }

func (l *Writer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.W.Write(b)
}
