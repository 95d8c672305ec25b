package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/audit"
	"github.com/reauth/reauth/internal/atomicfile"
)

// Formats a report can be written in, chosen by the file's extension.
const (
	FormatHTML     = "html"
	FormatMarkdown = "markdown"
)

// FormatOf is the format a report file's name asks for: .html/.htm or .md/.markdown.
func FormatOf(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".html", ".htm":
		return FormatHTML, nil
	case ".md", ".markdown":
		return FormatMarkdown, nil
	}
	return "", reauth.Usage("name the report FILE.html (a page for people) or FILE.md (Markdown for a ticket)",
		"report %q: unknown format %q", path, filepath.Ext(path))
}

// Load reads the audit log at path and builds the report of the run runID. With runID "", it
// takes the last `reauth run` in the log; the id it took is Report.RunID.
func Load(path, runID string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, reauth.WithHint(fmt.Errorf("open audit log: %w", err),
			"pass the audit log the run wrote (defaults.audit_log in the inventory; the run prints its path)")
	}
	defer f.Close()
	all, chain, err := audit.ReadChain(f)
	if err != nil {
		return nil, reauth.WithHint(fmt.Errorf("%s: %w", path, err), "pass the JSON Lines audit log that reauth run wrote")
	}
	if runID == "" {
		runID = lastRun(all)
		if runID == "" {
			return nil, reauth.Usage("pass the audit log that `reauth run` wrote", "%s holds no run", path)
		}
	}
	var entries []audit.Entry
	for _, e := range all {
		if e.RunID == runID {
			entries = append(entries, e)
		}
	}
	if len(entries) == 0 {
		return nil, reauth.Usage("omit --run to take the last run, or copy the run id from the run's output",
			"%s has no line of run %q (runs in it: %s)", path, runID, strings.Join(runIDs(all, 5), ", "))
	}
	r, err := Build(entries)
	if err != nil {
		return nil, err
	}
	r.Integrity, r.ChainBroken = integrity(chain, entries[len(entries)-1].Line)
	return r, nil
}

// integrity says, in one sentence, what the audit log's hash chain shows up to line last (the
// run's last line: what was appended later does not change this run's report).
func integrity(c audit.Chain, last int) (string, bool) {
	if c.From == 0 || c.From > last {
		return "not checked: these lines of the audit log carry no hash chain (written by a reauth from before it)", false
	}
	if bs := c.BreaksUpTo(last); len(bs) > 0 {
		parts := make([]string, 0, len(bs))
		for _, b := range bs {
			parts = append(parts, fmt.Sprintf("line %d: %s", b.Line, b.Why))
		}
		return "BROKEN: the audit log was changed after it was written: " + strings.Join(parts, "; "), true
	}
	return fmt.Sprintf("hash chain intact from line %d to line %d, the run's last line (each line carries the sha256 of the one before it)", c.From, last), false
}

// lastRun is the id of the last `reauth run` in the log (the last run with a start line, else
// the last line's run).
func lastRun(all []audit.Entry) string {
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Step == "run" && all[i].Outcome == "started" {
			return all[i].RunID
		}
	}
	if len(all) > 0 {
		return all[len(all)-1].RunID
	}
	return ""
}

// runIDs lists the last n distinct run ids of the log, newest first.
func runIDs(all []audit.Entry, n int) []string {
	seen := map[string]bool{}
	var out []string
	for i := len(all) - 1; i >= 0 && len(out) < n; i-- {
		if id := all[i].RunID; !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

// Render writes r in the format.
func Render(r *Report, format string) ([]byte, error) {
	var b bytes.Buffer
	var err error
	if format == FormatMarkdown {
		err = Markdown(&b, r)
	} else {
		err = HTML(&b, r)
	}
	return b.Bytes(), err
}

// Write renders r into path in the format its extension names. The file is written whole or not
// at all (temporary file, rename), mode 0600: it names users and hosts.
func Write(path string, r *Report) error {
	format, err := FormatOf(path)
	if err != nil {
		return err
	}
	b, err := Render(r, format)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, b, 0o600); err != nil {
		return reauth.WithHint(fmt.Errorf("write report: %w", err), "choose a writable directory for the report")
	}
	return nil
}
