package editdistance

import "testing"

func TestOf(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"admin", "admin", 0},
		{"adminn", "admin", 1},
		{"Token", "token", 1},
		{"kitten", "sitting", 3},
		{"", "abc", 3},
		{"jörg", "jorg", 1}, // runes, not bytes
		{"flaw", "lawn", 2},
	} {
		if got := Of(tc.a, tc.b); got != tc.want {
			t.Errorf("Of(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := Of(tc.b, tc.a); got != tc.want {
			t.Errorf("Of(%q, %q) = %d, want %d (symmetric)", tc.b, tc.a, got, tc.want)
		}
	}
}
