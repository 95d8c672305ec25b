// Package audit writes reauth's append-only audit log: JSON Lines, mode 0600, one line per step,
// with time, operator, host and counts, each line linked to the one before it by its sha256
// (chain.go). Never a secret or a token value: callers pass counts and
// names only, and Log refuses field values of type reauth.Secret by construction (they marshal to
// "***").
package audit

import (
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"sync"
	"time"
)

// Log appends lines to an audit file.
type Log struct {
	mu       sync.Mutex
	f        *os.File
	runID    string
	operator string
	host     string
	now      func() time.Time
}

// Open opens (creating 0600) the audit log at path for appending. A file that exists with wider
// permissions is tightened to 0600.
func Open(path, runID string, now func() time.Time) (*Log, error) {
	// Read as well as append: each line links to the one before it (chain.go).
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("audit log %s: %w", path, err)
	}
	host, _ := os.Hostname()
	if now == nil {
		now = time.Now
	}
	return &Log{f: f, runID: runID, operator: Operator(), host: host, now: now}, nil
}

// Operator is who runs reauth: the sudo user when run through sudo, else the OS user.
func Operator() string {
	if s := os.Getenv("SUDO_USER"); s != "" {
		return s
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}

// Step appends one line: step name, product, outcome and fields (counts, names, durations).
func (l *Log) Step(product, step, outcome string, fields map[string]any) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// Another process (a second run, a revoke) may append to the same log: the lock keeps the
	// last line and the one linked to it together.
	unlock, err := lockFile(l.f)
	if err != nil {
		return fmt.Errorf("audit: lock %s: %w", l.f.Name(), err)
	}
	defer unlock()
	prev, err := prevDigest(l.f)
	if err != nil {
		return fmt.Errorf("audit: read the last line of %s: %w", l.f.Name(), err)
	}
	line := map[string]any{
		"time": l.now().UTC().Format(time.RFC3339Nano), "run_id": l.runID,
		"operator": l.operator, "host": l.host, "product": product, "step": step, "outcome": outcome,
		PrevField: prev,
	}
	for k, v := range fields {
		if _, taken := line[k]; !taken {
			line[k] = v
		}
	}
	b, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if _, err := l.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return l.f.Sync()
}

// Close closes the file.
func (l *Log) Close() error {
	if l == nil {
		return nil
	}
	return l.f.Close()
}
