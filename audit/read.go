package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Entry is one line of the audit log, read back: the fields every line has, and the rest.
type Entry struct {
	Line     int // 1-based line number in the file
	Time     time.Time
	RunID    string
	Operator string
	Host     string
	Product  string
	Step     string
	Outcome  string
	Fields   map[string]json.RawMessage // every field, common ones included
}

// Get decodes field name into v; it reports whether the field was there and decoded.
func (e Entry) Get(name string, v any) bool {
	raw, ok := e.Fields[name]
	if !ok || len(raw) == 0 || string(raw) == "null" {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}

// Read reads every line of an audit log. Lines written by something else (without run_id or
// step) are skipped; a line that is not JSON is an error, except a last line cut short (a process
// killed while writing), which is skipped.
func Read(r io.Reader) ([]Entry, error) {
	out, _, err := ReadChain(r)
	return out, err
}

// ReadChain reads the log as Read does, and checks its hash chain (see Chain) over every line,
// also those Read skips.
func ReadChain(r io.Reader) ([]Entry, Chain, error) {
	br := bufio.NewReader(r)
	var out []Entry
	var ch chainer
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return out, ch.Chain, fmt.Errorf("read audit log: %w", err)
		}
		last := errors.Is(err, io.EOF)
		if trimmed := bytes.TrimSpace(line); len(trimmed) > 0 {
			e, perr := parse(trimmed)
			switch {
			case perr != nil && last && line[len(line)-1] != '\n':
				// cut short by a crash: nothing to read in it
			case perr != nil:
				return out, ch.Chain, fmt.Errorf("audit log line %d is not a JSON object (%v): is this reauth's audit log?", n, perr)
			default:
				ch.next(n, trimmed, e.Fields)
				if e.RunID != "" && e.Step != "" {
					e.Line = n
					out = append(out, e)
				}
			}
		}
		if last {
			return out, ch.Chain, nil
		}
	}
}

func parse(b []byte) (Entry, error) {
	var e Entry
	if err := json.Unmarshal(b, &e.Fields); err != nil {
		return e, err
	}
	str := func(k string) string {
		var s string
		e.Get(k, &s)
		return s
	}
	e.RunID, e.Operator, e.Host = str("run_id"), str("operator"), str("host")
	e.Product, e.Step, e.Outcome = str("product"), str("step"), str("outcome")
	if t := str("time"); t != "" {
		ts, err := time.Parse(time.RFC3339Nano, t)
		if err != nil {
			return e, fmt.Errorf("time %q: %w", t, err)
		}
		e.Time = ts
	}
	return e, nil
}
