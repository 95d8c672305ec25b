package atlassian

import "testing"

// Every product's further token tables are its catalog entry's: Crowd's remember-me table, none
// elsewhere. A run, a resume and revoke purge exactly these beside Table.
func TestFurtherTables(t *testing.T) {
	for _, id := range []ProductID{Jira, Confluence, Bitbucket, Bamboo, Fisheye, Crowd} {
		p, err := Lookup(string(id))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tt := range p.FurtherTables() {
			names = append(names, tt.Name)
		}
		want := map[ProductID]string{Crowd: "cwd_remember_me_token"}[id]
		if len(names) > 1 || len(names) == 1 && names[0] != want || len(names) == 0 && want != "" {
			t.Errorf("%s: further tables %v, want %q", id, names, want)
		}
	}
}
