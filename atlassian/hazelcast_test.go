package atlassian

import "testing"

func TestShellVar(t *testing.T) {
	for in, want := range map[string]string{
		"CATALINA_HOME=/a":                         "/a",
		"export CATALINA_HOME='/a b'":              "/a b",
		"CATALINA_HOME=/a\nCATALINA_HOME=/b":       "/b",
		"CATALINA_HOME=$X/y":                       "",
		`Environment="CATALINA_HOME=/usr/share/x"`: "/usr/share/x",
		"CATALINA_HOME=/a # comment":               "/a",
		"MY_CATALINA_HOME=/a":                      "",
	} {
		if got, _ := ShellVar([]byte(in), "CATALINA_HOME"); got != want {
			t.Errorf("ShellVar(%q) = %q, want %q", in, got, want)
		}
	}
}
