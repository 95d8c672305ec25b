package report

import (
	"fmt"
	"strings"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/termsafe"
)

// Markdown escaping. Every value in the Markdown report comes from the audit log, and many from
// outside reauth (user names from a token table, node names, what nodes answered): each must stay
// the text it is wherever a Markdown viewer (a ticket system, GitHub) shows it. No link (`[x](…)`,
// `<scheme:…>`, a bare `https://…`), no emphasis, no HTML, no table cell split by a pipe, no
// heading or list started by a value at the start of a line, no control character.

// mdFlat is v on one line, terminal-safe: line breaks and tabs become spaces, every other control
// character its Go escape (termsafe).
func mdFlat(v any) string {
	s := strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ", "\t", " ").Replace(fmt.Sprint(v))
	return termsafe.Field(s)
}

// mdCell makes a value plain text inside a Markdown table cell or a line of prose.
func mdCell(v any) string {
	s := mdFlat(v)
	var b strings.Builder
	for i, r := range s {
		switch {
		case strings.ContainsRune("\\`*_[]|~", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == ':' && strings.HasPrefix(s[i+1:], "//"):
			b.WriteString(`\:`) // no bare-URL autolink (GFM's "https://…")
		case r == ' ' && strings.TrimLeft(s[:i], " ") == "":
			b.WriteString("&#32;") // leading spaces would indent the line into a code block
		case i == 0 && strings.ContainsRune("#-+=", r), i == 0 && orderedMarker(s):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// orderedMarker reports whether s starts like an ordered list item ("1." or "1)").
func orderedMarker(s string) bool {
	d := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	return d > 0 && (s[d] == '.' || s[d] == ')')
}

// mdCode is v as a code span in a table cell: nothing inside is Markdown, the pipe excepted (a
// table splits cells before it reads code spans), and a backtick in v cannot end the span.
func mdCode(v any) string {
	return codeSpan(strings.ReplaceAll(mdFlat(v), "|", `\|`))
}

// mdCodeText is v as a code span outside a table.
func mdCodeText(v any) string { return codeSpan(mdFlat(v)) }

func codeSpan(s string) string {
	if s == "" {
		return ""
	}
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// longestRun is the length of the longest run of c in s.
func longestRun(s string, c rune) int {
	longest, n := 0, 0
	for _, r := range s {
		if r == c {
			n++
			longest = max(longest, n)
		} else {
			n = 0
		}
	}
	return longest
}

// mdFence is the fence of a code block holding lines: longer than any run of backticks in them,
// so that no line closes the block early.
func mdFence(lines []string) string {
	n := 2
	for _, l := range lines {
		n = max(n, longestRun(l, '`'))
	}
	return strings.Repeat("`", n+1)
}

// restoreLines are the backups' restore commands, one line each, terminal-safe.
func restoreLines(bs []Backup) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = mdFlat(b.Restore)
	}
	return out
}

// rebuildCommand is the command that writes this report again from its audit log.
func rebuildCommand(r *Report) string {
	log := "FILE"
	if r.AuditLog != "" {
		log = reauth.ShellQuote(r.AuditLog)
	}
	return "reauth report --audit-log " + log + " --run " + reauth.ShellQuote(r.RunID) + " -o report.md"
}
