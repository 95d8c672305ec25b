package report

import (
	"path/filepath"
	"strings"
	"testing"
)

// The run's credentials and idp lines become the section "Tokens, keys and the identity
// provider" in both forms: counts by kind, the IdP, its call and the hook's outcome; a run
// without them has no such section.
func TestCredentialsSection(t *testing.T) {
	for _, hook := range []string{"", "ok", "none"} {
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		f := newFakeRun(t, path, "run-c")
		f.start(true)
		if hook != "" {
			f.at(5, "jira", "credentials", "listed", map[string]any{"counts": []map[string]any{
				{"kind": "pat", "total": 4, "created_in_window": 0, "never_expires": 2, "admin_owned": 2}}})
			f.at(5, "jira", "idp", hook, map[string]any{"family": "keycloak", "issuer": "https://sso.example.com/realms/corp",
				"call": "POST https://sso.example.com/admin/realms/corp/logout-all"})
		}
		f.node("node1", false)
		f.verify(true)
		f.end(0, "", true, 1)
		r, err := Load(path, "run-c")
		if err != nil {
			t.Fatal(err)
		}
		html, md := render(t, r)
		if hook == "" {
			if strings.Contains(md, "Tokens, keys") || strings.Contains(html, `id="credentials"`) {
				t.Error("a run without credentials lines shows the section")
			}
			continue
		}
		if !strings.Contains(md, "| pat | 4 | 2 | 2 |") || !strings.Contains(html, `<td>pat</td><td class="num">4</td>`) {
			t.Errorf("hook %s: counts missing:\n%s", hook, md)
		}
		if !strings.Contains(md, "`POST https://sso.example.com/admin/realms/corp/logout-all`") || !strings.Contains(html, "logout-all") {
			t.Errorf("hook %s: the IdP's call missing:\n%s", hook, md)
		}
		ended := strings.Contains(md, "Its sessions were ended by the inventory's idp hook.")
		if ended != (hook == "ok") || (hook == "none") != strings.Contains(md, "**Its sessions were not ended**") {
			t.Errorf("hook %s: outcome not said right:\n%s", hook, md)
		}
	}
}
