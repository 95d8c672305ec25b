// Package termsafe makes text from outside reauth (user names from a token table, node names,
// answers of servers) safe to print on a terminal. A control character in such a value could move
// the cursor, rewrite earlier lines of a plan, change the window title or, with the Unicode bidi
// controls, show text in another order than it is: each is written as a Go escape (\x1b, \r,
// \u202e) instead, and a byte that is not UTF-8 as \xNN. Printable text, non-ASCII letters
// included, is unchanged. This is the one place that decides; every human printer goes through it.
package termsafe

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Field returns s with every control character escaped, line breaks and tabs included: for one
// value printed within a line.
func Field(s string) string { return escape(s, false) }

// Text returns s with every control character escaped except line breaks and tabs: for a
// message of several lines (an error, a hint).
func Text(s string) string { return escape(s, true) }

// Fields is Field of each string.
func Fields(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Field(s)
	}
	return out
}

func escape(s string, keepLines bool) string {
	if clean(s, keepLines) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case keepLines && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case unsafe(r) && r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafe(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func clean(s string, keepLines bool) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || unsafe(r) && !(keepLines && (r == '\n' || r == '\t')) {
			return false
		}
		i += n
	}
	return true
}

// unsafe reports whether r changes the terminal or the order of what it shows rather than
// printing a glyph: C0, DEL, C1, and the bidi formatting characters.
func unsafe(r rune) bool {
	if unicode.IsControl(r) {
		return true
	}
	switch {
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
