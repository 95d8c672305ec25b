package reauth

import (
	"fmt"
	"strconv"
	"strings"
)

// Unavailable is how many nodes a rolling restart may take down at once (--max-unavailable,
// restart.max_unavailable): a count, or a percentage of the product's nodes as Kubernetes'
// maxUnavailable and Ansible's serial take it. The zero value is one node at a time.
type Unavailable struct {
	Count   int // nodes; 0 when Percent is set
	Percent int // 1..100; 0 when Count is set
}

// ParseUnavailable reads "2" or "34%". An empty string is the zero value (one at a time).
func ParseUnavailable(s string) (Unavailable, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Unavailable{}, nil
	}
	hint := "give a number of nodes (2) or a percentage of them (34%)"
	if p, ok := strings.CutSuffix(s, "%"); ok {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 100 {
			return Unavailable{}, Usage(hint, "%q: a percentage must be 1%%..100%%", s)
		}
		return Unavailable{Percent: n}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return Unavailable{}, Usage(hint, "%q is not a positive number of nodes", s)
	}
	return Unavailable{Count: n}, nil
}

// Of is the wave size for a product of n nodes: a percentage rounds down, as Kubernetes' does,
// but is never below one node.
func (u Unavailable) Of(n int) int {
	k := u.Count
	if u.Percent > 0 {
		k = n * u.Percent / 100
	}
	if k < 1 {
		k = 1
	}
	return k
}

// String is the value as given ("2", "34%"), "1" for the zero value.
func (u Unavailable) String() string {
	if u.Percent > 0 {
		return fmt.Sprintf("%d%%", u.Percent)
	}
	if u.Count == 0 {
		return "1"
	}
	return strconv.Itoa(u.Count)
}
