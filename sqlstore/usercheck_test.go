package sqlstore

import (
	"fmt"
	"testing"
)

// Names are checked against the product's users: a typo gets the near name, an unknown name
// none, a known one (any case) passes (#31 item 11). The token rows spell the admin "Admin".
func TestUnknownUsers(t *testing.T) {
	for _, tc := range []struct {
		name string
		tg   func(testing.TB) target
	}{{"postgres", pgTarget}, {"sqlite", sqliteTarget}} {
		t.Run(tc.name, func(t *testing.T) {
			tg := tc.tg(t)
			setupJira(t, tg, 10)
			s := openStore(t, tg, "jira", Options{})
			unknown, checked, err := s.UnknownUsers(ctxT(t), []string{"adminn", "Bob", "alice", "zed"})
			if err != nil || !checked {
				t.Fatalf("checked %v, err %v", checked, err)
			}
			if got := fmt.Sprint(unknown); got != "[{adminn Admin} {zed }]" {
				t.Fatalf("unknown %s", got)
			}
		})
	}
}

func TestClosest(t *testing.T) {
	known := []string{"admin", "alice", "bob", "jira-sysadmin"}
	for name, want := range map[string]string{"adminn": "admin", "Admn": "admin", "bo": "", "jira-sysadmn": "jira-sysadmin", "xyz": ""} {
		if got := closest(name, known); got != want {
			t.Errorf("closest(%q) = %q, want %q", name, got, want)
		}
	}
}
