package atlassian

import "testing"

func TestVersionAtLeast(t *testing.T) {
	for _, tc := range []struct {
		v, min string
		want   bool
	}{
		{"9.11.0", "9.11.0", true}, {"9.11", "9.11.0", true}, {"9.12.0-m0001", "9.11.0", true},
		{"10.0.0", "9.11.0", true}, {"9.10.99", "9.11.0", false}, {"9.4.0", "9.11.0", false},
		{"", "9.11.0", false}, {"abc", "1", false}, {"9.11.0.1", "9.11.0", true},
		{"9.4.0-rc1", "9.4.0", true}, {"8.20", "9.4.0", false}, {" 9.12.0 ", "9.11", true},
	} {
		if got := VersionAtLeast(tc.v, tc.min); got != tc.want {
			t.Errorf("VersionAtLeast(%q, %q) = %v", tc.v, tc.min, got)
		}
	}
}
