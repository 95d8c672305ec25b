package atlassian

import "testing"

// A node URL ending in the context path and one without it reach the same endpoint: the context
// path is added once (Crowd's /crowd used to be doubled by the proof and API mode).
func TestProductURLJoinsOnce(t *testing.T) {
	crowd, err := Lookup("crowd")
	if err != nil {
		t.Fatal(err)
	}
	jira, err := Lookup("jira")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		p          Product
		base, path string
		want       string
	}{
		{crowd, "http://10.0.0.1:8095", "/status", "http://10.0.0.1:8095/crowd/status"},
		{crowd, "http://10.0.0.1:8095/crowd", "/status", "http://10.0.0.1:8095/crowd/status"},
		{crowd, "http://10.0.0.1:8095/crowd/", "/status", "http://10.0.0.1:8095/crowd/status"},
		{crowd, "http://crowd", "/status", "http://crowd/crowd/status"}, // a host named crowd is not the context path
		{crowd, "http://10.0.0.1:8095/sso/crowd", "rest/usermanagement/1/session", "http://10.0.0.1:8095/sso/crowd/rest/usermanagement/1/session"},
		{jira, "http://10.0.0.1:8080/", "/status", "http://10.0.0.1:8080/status"},
		{jira, "http://10.0.0.1:8080/jira", "/status", "http://10.0.0.1:8080/jira/status"},
	}
	for _, tc := range cases {
		if got := tc.p.URL(tc.base, tc.path); got != tc.want {
			t.Errorf("%s URL(%q, %q) = %q, want %q", tc.p.ID, tc.base, tc.path, got, tc.want)
		}
	}
}
