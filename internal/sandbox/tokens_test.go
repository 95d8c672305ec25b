package sandbox

import (
	"testing"

	"github.com/reauth/reauth/atlassian"
)

// FuzzParseCookie feeds arbitrary remember-me cookie values (attacker input at every node) to
// both formats: never a panic, and whatever parses re-encodes to a value that parses the same.
func FuzzParseCookie(f *testing.F) {
	f.Add("12:deadbeef")
	f.Add("c2VyaWVzOnRva2Vu")
	f.Add(":::")
	f.Fuzz(func(t *testing.T, v string) {
		for _, id := range []atlassian.ProductID{atlassian.Jira, atlassian.Bitbucket} {
			p, _ := atlassian.Lookup(string(id))
			m, _ := modelFor(p)
			key, secret, ok := m.parseCookie(v)
			if !ok {
				continue
			}
			if key == "" || secret == "" {
				t.Fatalf("%s: parsed %q into an empty part", id, v)
			}
			k2, s2, ok2 := m.parseCookie(m.cookieValue(token{Key: key, Secret: secret}))
			if !ok2 || k2 != key || s2 != secret {
				t.Fatalf("%s: %q -> (%q,%q) -> (%q,%q,%v)", id, v, key, secret, k2, s2, ok2)
			}
		}
	})
}

func TestCheckPassword(t *testing.T) {
	h := hashPassword("s3cret")
	if !checkPassword(h, "s3cret") || checkPassword(h, "S3cret") || checkPassword("garbage", "s3cret") {
		t.Fatal("checkPassword")
	}
	if h2 := hashPassword("s3cret"); h2 == h {
		t.Fatal("hashes are not salted")
	}
}
