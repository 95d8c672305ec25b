package backup

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Infinite reports whether s is PostgreSQL's spelling of an infinite time. A backup keeps such a
// value as this text in a time column: no time.Time holds it, and a restore binds the text, which
// PostgreSQL reads back as the same infinity.
func Infinite(s string) bool { return s == "infinity" || s == "-infinity" }

// ParseTime reads a time column's value as Row writes it: RFC 3339 with nanoseconds, where the
// year may also be negative (astronomical numbering: 44 BC is -0043) or longer than four digits
// (PostgreSQL goes to 294276), as time.Time.AppendFormat spells them; or an infinity, returned as
// its text. time.Parse alone takes neither.
func ParseTime(s string) (any, error) {
	if Infinite(s) {
		return s, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	// [-]YYYY…-MM-DDT…: parse the rest against a leap year, then put the real year back.
	digits := strings.TrimPrefix(s, "-")
	end := strings.IndexByte(digits, '-')
	if end < 4 {
		return nil, fmt.Errorf("cannot read %q as a time", s)
	}
	year, err := strconv.Atoi(digits[:end])
	if err != nil {
		return nil, fmt.Errorf("cannot read %q as a time", s)
	}
	if len(digits) != len(s) {
		year = -year
	}
	t, err := time.Parse(time.RFC3339Nano, "2000"+digits[end:])
	if err != nil {
		return nil, fmt.Errorf("cannot read %q as a time: %w", s, err)
	}
	if t.Month() == time.February && t.Day() == 29 && !leap(year) {
		return nil, fmt.Errorf("cannot read %q as a time: %d is not a leap year", s, year)
	}
	return time.Date(year, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location()), nil
}

func leap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }
