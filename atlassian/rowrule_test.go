package atlassian

import "testing"

// TestCrowdAppTokenRule: Crowd's catalog keeps application tokens (directory_id = -1), and the
// inventory's app_token_rule is parsed strictly (a plain column, an integer), never as raw SQL.
func TestCrowdAppTokenRule(t *testing.T) {
	p, err := Lookup("crowd")
	if err != nil {
		t.Fatal(err)
	}
	if p.Table.Keep != (RowRule{Column: "directory_id", Equals: -1}) || p.Table.Keep.String() != "directory_id = -1" {
		t.Fatalf("crowd keep rule %+v", p.Table.Keep)
	}
	if p.SSOCookie != "crowd.token_key" || p.Companion.Name != "cwd_remember_me_token" {
		t.Fatalf("crowd sso cookie %q, companion %q", p.SSOCookie, p.Companion.Name)
	}
	for _, id := range []string{"jira", "confluence", "bitbucket", "bamboo", "fisheye"} {
		if q, _ := Lookup(id); !q.Table.Keep.IsZero() {
			t.Fatalf("%s has a keep rule", id)
		}
	}
	for in, want := range map[string]RowRule{
		"directory_id = -1": {Column: "directory_id", Equals: -1},
		" DIRECTORY_ID=-1 ": {Column: "DIRECTORY_ID", Equals: -1},
		"dir_2 = 7":         {Column: "dir_2", Equals: 7},
	} {
		got, err := ParseRowRule(in)
		if err != nil || got != want {
			t.Errorf("ParseRowRule(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "directory_id", "directory_id = ", "= -1", "directory_id = x", "1col = 1",
		"directory_id = -1 OR 1=1", "directory_id = -1; DROP TABLE cwd_token", `"directory_id" = -1`, "a.b = 1"} {
		if r, err := ParseRowRule(bad); err == nil {
			t.Errorf("ParseRowRule(%q) = %+v, want an error", bad, r)
		}
	}
}
