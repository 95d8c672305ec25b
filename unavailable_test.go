package reauth

import "testing"

func TestUnavailable(t *testing.T) {
	cases := []struct {
		in    string
		nodes int
		want  int
	}{
		{"", 6, 1}, {"2", 6, 2}, {"34%", 6, 2}, {"50%", 5, 2}, {"10%", 3, 1}, {"100%", 4, 4}, {"3", 2, 3},
	}
	for _, c := range cases {
		u, err := ParseUnavailable(c.in)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if got := u.Of(c.nodes); got != c.want {
			t.Errorf("%q of %d nodes = %d, want %d", c.in, c.nodes, got, c.want)
		}
	}
	for _, bad := range []string{"0", "-1", "0%", "101%", "x", "2.5", "%"} {
		if _, err := ParseUnavailable(bad); CodeOf(err) != ExitUsage {
			t.Errorf("%q: %v, want a usage error", bad, err)
		}
	}
}
