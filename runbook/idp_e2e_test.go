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

type idpRun struct {
	Verified   bool     `json:"verified"`
	NotCovered []string `json:"not_covered"`
	Products   []struct {
		IdP *struct {
			IdPs []struct {
				Issuer string `json:"issuer"`
				IdP    struct {
					Family string `json:"family"`
					EndAll string `json:"end_sessions_call"`
				} `json:"identity_provider"`
			} `json:"idps"`
			Hook    string `json:"hook"`
			Covered bool   `json:"covered"`
		} `json:"idp"`
	} `json:"products"`
}

// TestRunIdentityProviderSessions: with SSO for Atlassian Data Center on (a Keycloak issuer in
// AO_ED669C_IDP_CONFIG, on real PostgreSQL), the plan names the IdP and the exact call; without an
// idp hook not_covered gives that call; with one, the run runs it without reauth's secrets in its
// environment (REAUTH_DB_PASSWORD dropped, as for the drain hooks), the report says ok, and
// not_covered no longer lists the IdP's sessions.
func TestRunIdentityProviderSessions(t *testing.T) {
	pg := testenv.Postgres(t)
	const issuer = "https://sso.example.com/realms/corp"
	const call = "POST https://sso.example.com/admin/realms/corp/logout-all"
	c := sandboxtest.UpForRestart(t, sandbox.Options{Product: atlassian.Jira, Nodes: 1, DB: pg.URL, Users: 2, SSOIssuer: issuer})
	dir := t.TempDir()
	cfg := writeInventory(t, dir, product{c: c, proofUser: "admin"})

	plan, stderr, code := reauthCmd(t, nil, "run", "--config", cfg, "--dry-run", "--json")
	var dry idpRun
	if code != 0 || json.Unmarshal([]byte(plan), &dry) != nil {
		t.Fatalf("dry run exit %d: %s\n%s", code, plan, stderr)
	}
	if p := dry.Products[0].IdP; p == nil || len(p.IdPs) != 1 || p.IdPs[0].IdP.Family != "keycloak" || p.IdPs[0].IdP.EndAll != call || p.Hook != "none" {
		t.Fatalf("dry run idp: %+v", dry.Products[0].IdP)
	}
	if nc := strings.Join(dry.NotCovered, "\n"); !strings.Contains(nc, call) || !strings.Contains(nc, "jira (keycloak") {
		t.Errorf("not_covered without a hook must give the call: %v", dry.NotCovered)
	}
	text, _, _ := reauthCmd(t, nil, "run", "--config", cfg, "--dry-run")
	if !strings.Contains(text, "SSO is on") || !strings.Contains(text, call) {
		t.Errorf("the plan does not name the IdP and its call:\n%s", text)
	}

	envFile := filepath.Join(dir, "idp.env")
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hook := "    idp: {command: \"env > " + envFile + "\", timeout: 30s}\n"
	inv := strings.Replace(string(b), "  - product: jira\n", "  - product: jira\n"+hook, 1)
	if err := os.WriteFile(cfg, []byte(inv), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := reauthCmd(t, []string{"REAUTH_DB_PASSWORD=" + pg.Pass}, "run", "--config", cfg, "--yes", "--json")
	var r idpRun
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("run exit %d: %s\n%s", code, out, stderr)
	}
	if p := r.Products[0].IdP; p == nil || p.Hook != "ok" || !p.Covered || !r.Verified {
		t.Fatalf("idp after the run: %+v (verified %v)\n%s", p, r.Verified, stderr)
	}
	for _, n := range r.NotCovered {
		if strings.Contains(n, "identity provider") {
			t.Errorf("not_covered still lists the IdP's sessions: %q", n)
		}
	}
	// The hook of the run that was given REAUTH_DB_PASSWORD: it must not see it. (The test's own
	// environment, which the hook inherits as any child does, may hold the password in a test
	// server's URL, REAUTH_TEST_PG_URL under .ci/run: lines inherited unchanged are not reauth's.)
	env, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatalf("the idp hook did not run: %v", err)
	}
	inherited := map[string]bool{}
	for _, kv := range os.Environ() {
		inherited[kv] = true
	}
	for _, line := range strings.Split(string(env), "\n") {
		if !inherited[line] && (strings.HasPrefix(line, "REAUTH_DB_PASSWORD=") || strings.Contains(line, pg.Pass)) {
			t.Errorf("the idp hook inherited the database password (%s=…)", strings.SplitN(line, "=", 2)[0])
		}
	}
	if !strings.Contains(string(env), "REAUTH_IDP_CALL="+call) || !strings.Contains(string(env), "REAUTH_IDP_FAMILY=keycloak") {
		t.Errorf("the hook's environment lacks the IdP's call:\n%s", env)
	}
	text, _, code = reauthCmd(t, nil, "run", "--config", cfg, "--yes")
	if code != 0 || !strings.Contains(text, "idp     SSO is on, keycloak (https://sso.example.com/realms/corp): the idp hook ended its sessions") {
		t.Errorf("the report does not say the hook ended the IdP's sessions (exit %d):\n%s", code, text)
	}
}
