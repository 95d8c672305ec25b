package runbook_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
)

// ssoSeraph is a seraph-config.xml switched to Crowd SSO as "Integrating Crowd with Jira" says:
// the Jira authenticator commented out, SSOSeraphAuthenticator in.
const ssoSeraph = `<security-config>
  <parameters><init-param><param-name>login.cookie.key</param-name><param-value>seraph.rememberme.cookie</param-value></init-param></parameters>
  <!--<authenticator class="com.atlassian.jira.security.login.JiraSeraphAuthenticator"/>-->
  <authenticator class="com.atlassian.jira.security.login.SSOSeraphAuthenticator"/>
</security-config>
`

// TestRunJiraCrowdSSOWithoutCrowd: Jira configured for Crowd SSO (its install's seraph-config.xml),
// Crowd not in the inventory. The plan warns, naming the gap and the file; the run ends Jira's own
// sessions, and the report says that SSO was not covered (sso_not_covered, not_covered, the
// product's sso block) with Jira's cache of Crowd authentication.
func TestRunJiraCrowdSSOWithoutCrowd(t *testing.T) {
	pg := testenv.Postgres(t)
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 1, DB: pg.URL, Users: 4, RememberFraction: 0.5})
	for _, n := range c.Nodes() {
		p := filepath.Join(n.Dir, "atlassian-jira", "WEB-INF", "classes")
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "seraph-config.xml"), []byte(ssoSeraph), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "crowd.properties"), []byte("application.name=jira\nsession.validationinterval=2\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := writeInventory(t, t.TempDir(), product{c: c, proofUser: "admin"})
	plan, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--dry-run")
	if code != 0 || !strings.Contains(plan, "signs in through Crowd SSO") || !strings.Contains(plan, "SSOSeraphAuthenticator") ||
		!strings.Contains(plan, "Crowd is not in this run") || !strings.Contains(plan, "15 minutes") || !strings.Contains(plan, "validationinterval = 2") {
		t.Fatalf("dry run (exit %d) does not warn about Crowd SSO:\n%s\n%s", code, plan, stderr)
	}
	stdout, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--yes", "--json")
	if code != 0 {
		t.Fatalf("run exited %d\n%s\n%s", code, stdout, stderr)
	}
	var r struct {
		Verified      bool     `json:"verified"`
		SSONotCovered []string `json:"sso_not_covered"`
		NotCovered    []string `json:"not_covered"`
		Products      []struct {
			Warnings []string `json:"warnings"`
			SSO      *struct {
				Provider   string `json:"provider"`
				DetectedBy string `json:"detected_by"`
				Cache      string `json:"cache"`
				Covered    bool   `json:"covered"`
			} `json:"sso"`
		} `json:"products"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	// Verified speaks of Jira's own sessions; sso_not_covered says what it does not speak of.
	if !r.Verified || len(r.SSONotCovered) != 1 || r.SSONotCovered[0] != "jira" {
		t.Fatalf("verified %v, sso_not_covered %v\n%s", r.Verified, r.SSONotCovered, stdout)
	}
	if !strings.Contains(strings.Join(r.NotCovered, "\n"), "Crowd SSO sessions (crowd.token_key) of jira") {
		t.Fatalf("not_covered does not name jira's Crowd SSO: %v", r.NotCovered)
	}
	s := r.Products[0].SSO
	if s == nil || s.Covered || s.Provider != "crowd" || !strings.Contains(s.DetectedBy, "SSOSeraphAuthenticator") || !strings.Contains(s.Cache, "15 minutes") {
		t.Fatalf("sso block %+v", s)
	}
	if !strings.Contains(strings.Join(r.Products[0].Warnings, "\n"), "Crowd is not in this run") {
		t.Fatalf("no warning naming the gap: %v", r.Products[0].Warnings)
	}
	// sso: none in the inventory overrides detection: no warning, no gap.
	b, _ := os.ReadFile(cfg)
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(b), "    home:", "    sso: none\n    home:", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	plan, stderr, code = reauthCmd(t, nil, "run", "--config", cfg, "--dry-run")
	if code != 0 || strings.Contains(plan, "Crowd SSO (") {
		t.Fatalf("sso: none still warns (exit %d):\n%s\n%s", code, plan, stderr)
	}
}
