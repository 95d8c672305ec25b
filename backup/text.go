package backup

import (
	"errors"
	"unicode/utf8"
)

// ErrNotText is returned by Batch.TextRow for a value whose text form it does not convert
// exactly (a BC or infinite time, a NaN, a type it does not know): the caller then reads the
// row the generic way. Nothing is added to the batch.
var ErrNotText = errors.New("backup: value not in a text form the fast path converts")

// TextRow appends one row given each value in the text form a database sends it (nil: NULL),
// without decoding it into Go values first: the purge's fast path on PostgreSQL. It converts
//   - KindInt: a decimal integer that fits int64;
//   - KindString: any bytes (invalid UTF-8 is replaced, as Row does);
//   - KindTime: "YYYY-MM-DD HH:MM:SS[.fraction]" with no offset, "+00" or "Z", read as UTC (the
//     caller sets the session's time zone to UTC);
//
// and returns ErrNotText for anything else, leaving the batch as it was. The line is the one
// Row writes for the same values, up to the spelling of a time's fraction.
func (b *Batch) TextRow(vals [][]byte) error {
	if b.sealed {
		return errors.New("backup: row added to a sealed batch")
	}
	if len(vals) != len(b.cols) {
		return ErrNotText
	}
	start := len(b.lines)
	out := append(b.lines, '{')
	for i, c := range b.cols {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, b.keys[i]...)
		v := vals[i]
		if v == nil {
			out = append(out, "null"...)
			continue
		}
		var ok bool
		switch c.Kind {
		case KindInt:
			if ok = isInt64(v); ok {
				out = append(out, v...)
			}
		case KindString:
			out, ok = appendString(out, v), true
		case KindTime:
			out, ok = appendTextTime(out, v)
		}
		if !ok {
			b.lines = b.lines[:start]
			return ErrNotText
		}
	}
	b.lines = append(out, '}', '\n')
	b.rows++
	return nil
}

// isInt64 reports whether v is a decimal integer ([-]digits, no leading zero) in int64's range.
func isInt64(v []byte) bool {
	d := v
	neg := len(d) > 0 && d[0] == '-'
	if neg {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 19 || (d[0] == '0' && len(d) > 1) {
		return false
	}
	var n uint64
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + uint64(c-'0') // 19 digits fit in uint64
	}
	limit := uint64(1<<63 - 1)
	if neg {
		limit++
	}
	return n <= limit
}

// appendTextTime converts "YYYY-MM-DD HH:MM:SS[.f…][+00|Z]" to the JSON string
// "YYYY-MM-DDTHH:MM:SS[.f…]Z" (RFC 3339, as Row writes a UTC time).
func appendTextTime(out, v []byte) ([]byte, bool) {
	const layout = "dddd-dd-dd dd:dd:dd"
	if len(v) < len(layout) {
		return out, false
	}
	for i := 0; i < len(layout); i++ {
		switch c := v[i]; layout[i] {
		case 'd':
			if c < '0' || c > '9' {
				return out, false
			}
		case ' ':
			if c != ' ' && c != 'T' {
				return out, false
			}
		default:
			if c != layout[i] {
				return out, false
			}
		}
	}
	if !inRange(v[5:7], 1, 12) || !inRange(v[8:10], 1, daysIn(v[0:4], v[5:7])) || !inRange(v[11:13], 0, 23) ||
		!inRange(v[14:16], 0, 59) || !inRange(v[17:19], 0, 59) {
		return out, false
	}
	rest := v[len(layout):]
	frac := 0
	if len(rest) > 0 && rest[0] == '.' {
		frac = 1
		for frac < len(rest) && rest[frac] >= '0' && rest[frac] <= '9' {
			frac++
		}
		if frac == 1 || frac > 10 { // "." alone, or more than nanoseconds
			return out, false
		}
	}
	switch string(rest[frac:]) {
	case "", "+00", "Z", "+00:00":
	default:
		return out, false
	}
	out = append(out, '"')
	out = append(out, v[:10]...)
	out = append(out, 'T')
	out = append(out, v[11:len(layout)]...)
	out = append(out, rest[:frac]...)
	return append(out, 'Z', '"'), true
}

// daysIn is the number of days in the month (two digits, 01-12) of the year (four digits).
func daysIn(year, month []byte) int {
	m := int(month[0]-'0')*10 + int(month[1]-'0')
	switch m {
	case 4, 6, 9, 11:
		return 30
	case 2:
		y := int(year[0]-'0')*1000 + int(year[1]-'0')*100 + int(year[2]-'0')*10 + int(year[3]-'0')
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	}
	return 31
}

func inRange(d []byte, lo, hi int) bool {
	n := int(d[0]-'0')*10 + int(d[1]-'0')
	return n >= lo && n <= hi
}

// appendString writes s as a JSON string. Invalid UTF-8 is replaced (as encoding/json does);
// text columns of the token tables hold ASCII tokens and login names.
func appendString[T string | []byte](b []byte, s T) []byte {
	const hexd = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && n == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
