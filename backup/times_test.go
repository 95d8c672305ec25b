package backup

import (
	"testing"
	"time"
)

// Every time Row writes reads back equal, including the ones time.Parse refuses: BC years, years
// past 9999, and PostgreSQL's infinities (kept as text).
func TestParseTimeRoundTrip(t *testing.T) {
	for _, tc := range []any{
		time.Date(-43, 3, 15, 10, 0, 0, 0, time.UTC),
		time.Date(-4712, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(294276, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(0, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.FixedZone("", 5*3600+1800)),
		"infinity", "-infinity",
	} {
		text, err := appendValue(nil, tc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseTime(string(text[1 : len(text)-1]))
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		if a, ok := tc.(time.Time); ok {
			if b, ok := got.(time.Time); !ok || !a.Equal(b) {
				t.Fatalf("%s read back as %v, want %v", text, got, a)
			}
		} else if got != tc {
			t.Fatalf("%s read back as %#v", text, got)
		}
	}
	for _, bad := range []string{"", "infinite", "-", "123-01-01T00:00:00Z", "-0043-13-01T00:00:00Z", "0001-02-29T00:00:00Z", "x2025-01-01T00:00:00Z"} {
		if v, err := ParseTime(bad); err == nil {
			t.Errorf("%q read as %v", bad, v)
		}
	}
}
