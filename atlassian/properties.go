package atlassian

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Properties is a parsed Java properties file: the last value of each key wins, as in
// java.util.Properties.
type Properties map[string]string

// ParseProperties reads Java properties text the way java.util.Properties.load does: '#' and
// '!' comments, '=', ':' or whitespace between key and value, '\' line continuations (leading
// whitespace of the next line dropped), the escapes \t \n \r \f, \uXXXX, and '\' before any
// other character standing for that character. A malformed \u escape is an error naming the line
// (Java refuses the whole file too). Text that is not valid UTF-8 is read as ISO-8859-1, the
// encoding Java assumes for properties files.
func ParseProperties(data []byte) (Properties, error) {
	text := string(data)
	if !utf8.ValidString(text) {
		var b strings.Builder
		for _, c := range data {
			b.WriteRune(rune(c))
		}
		text = b.String()
	}
	text = strings.TrimPrefix(text, "\uFEFF")
	props := Properties{}
	lines := splitNaturalLines(text)
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		line := strings.TrimLeft(lines[i], " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		// Join continuation lines: a line ending in an odd number of backslashes.
		logical := line
		for endsWithOddBackslashes(logical) && i+1 < len(lines) {
			i++
			logical = logical[:len(logical)-1] + strings.TrimLeft(lines[i], " \t\f")
		}
		if endsWithOddBackslashes(logical) { // continuation at end of file: Java drops the '\'
			logical = logical[:len(logical)-1]
		}
		key, value, err := splitProperty(logical)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		props[key] = value
	}
	return props, nil
}

func splitNaturalLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Split(s, "\n")
}

func endsWithOddBackslashes(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// splitProperty splits one logical line (leading whitespace already removed) into an unescaped
// key and value.
func splitProperty(line string) (string, string, error) {
	keyEnd, valStart := len(line), len(line)
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '\\' {
			i++ // the next character is escaped, whatever it is
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			keyEnd = i
			j := i
			for j < len(line) && (line[j] == ' ' || line[j] == '\t' || line[j] == '\f') {
				j++
			}
			if c != '=' && c != ':' && j < len(line) && (line[j] == '=' || line[j] == ':') {
				j++ // "key  = value": whitespace then one separator
			} else if c == '=' || c == ':' {
				j = i + 1
			}
			for j < len(line) && (line[j] == ' ' || line[j] == '\t' || line[j] == '\f') {
				j++
			}
			valStart = j
			break
		}
	}
	key, err := unescapeProperty(line[:keyEnd])
	if err != nil {
		return "", "", err
	}
	val, err := unescapeProperty(line[valStart:])
	if err != nil {
		return "", "", fmt.Errorf("value of %q: %w", key, err)
	}
	return key, val, nil
}

func unescapeProperty(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 > len(s) {
				return "", fmt.Errorf(`malformed \u escape %q: expected \u and four hex digits`, s[i-1:])
			}
			r, ok := hex4(s[i+1 : i+5])
			if !ok {
				return "", fmt.Errorf(`malformed \u escape %q: expected \u and four hex digits`, s[i-1:i+5])
			}
			i += 4
			// Java strings are UTF-16: join a surrogate pair written as two \u escapes.
			if r >= 0xD800 && r < 0xDC00 && i+7 <= len(s) && s[i+1:i+3] == `\u` {
				if lo, ok := hex4(s[i+3 : i+7]); ok && lo >= 0xDC00 && lo < 0xE000 {
					r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
					i += 6
				}
			}
			b.WriteRune(r)
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}

func hex4(s string) (rune, bool) {
	if len(s) != 4 {
		return 0, false
	}
	var r rune
	for _, h := range s {
		switch {
		case h >= '0' && h <= '9':
			r = r<<4 | (h - '0')
		case h >= 'a' && h <= 'f':
			r = r<<4 | (h - 'a' + 10)
		case h >= 'A' && h <= 'F':
			r = r<<4 | (h - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}
