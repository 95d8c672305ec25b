package atlassian

import (
	"strconv"
	"strings"
)

// VersionAtLeast compares dotted product versions numerically ("9.12.0" >= "9.11";
// "10.0.1" >= "9.11"; "9.12.0-m0001" reads as 9.12.0). A version without numbers is never at least
// anything.
func VersionAtLeast(v, min string) bool {
	a, b := VersionParts(v), VersionParts(min)
	if len(a) == 0 {
		return false
	}
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return x > y
		}
	}
	return true
}

// VersionParts reads the leading numbers of a version ("9.12.0-m0001" -> 9 12 0).
func VersionParts(v string) []int {
	var out []int
	for _, f := range strings.Split(strings.TrimSpace(v), ".") {
		end := 0
		for end < len(f) && f[end] >= '0' && f[end] <= '9' {
			end++
		}
		if end == 0 {
			break
		}
		n, err := strconv.Atoi(f[:end])
		if err != nil {
			break
		}
		out = append(out, n)
		if end < len(f) {
			break
		}
	}
	return out
}
