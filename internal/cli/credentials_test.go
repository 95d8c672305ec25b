package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
	"github.com/reauth/reauth/sqlstore"
)

func sandboxDBURL(t *testing.T, engine string) string {
	t.Helper()
	if engine == "postgres" {
		return testenv.Postgres(t).URL
	}
	d := testenv.MariaDB(t)
	return fmt.Sprintf("mysql://%s:%s@%s:%d/%s", d.User, d.Pass, d.Host, d.Port, d.Name)
}

// credKey identifies a credential the same way in the sandbox's manifest and in the listing.
func credKey(kind atlassian.CredentialKind, id, owner, name string) string {
	return fmt.Sprintf("%s|%s|%s|%s", kind, id, owner, name)
}

// TestCredentialsEndToEnd: on real PostgreSQL and MariaDB, for Jira, Confluence and Bitbucket,
// `reauth credentials --since T` lists exactly the tokens and keys the sandbox seeded, flags the
// intruder's as created in the window and nothing else, reads the SSO configuration with the
// IdP's call, and prints no secret (raw token, hash, key material, client secret) in either form.
func TestCredentialsEndToEnd(t *testing.T) {
	issuers := map[atlassian.ProductID]struct {
		issuer string
		family atlassian.IdPFamily
	}{
		atlassian.Jira:       {"https://sso.example.com/realms/corp", atlassian.IdPKeycloak},
		atlassian.Confluence: {"https://login.microsoftonline.com/0c1e3b3a-1111-2222-3333-444455556666/v2.0", atlassian.IdPEntra},
		atlassian.Bitbucket:  {"https://dev-123.okta.com/oauth2/default", atlassian.IdPOkta},
	}
	for _, engine := range []string{"postgres", "mariadb"} {
		for _, p := range []atlassian.ProductID{atlassian.Jira, atlassian.Confluence, atlassian.Bitbucket} {
			t.Run(engine+"/"+string(p), func(t *testing.T) {
				t.Parallel()
				c := sandboxtest.Up(t, sandbox.Options{Product: p, Nodes: 1, Users: 3, DB: sandboxDBURL(t, engine), SSOIssuer: issuers[p].issuer})
				seeded, err := c.SeededCredentials()
				if err != nil {
					t.Fatal(err)
				}
				since := seeded.WindowStart.Format(time.RFC3339)
				code, out, stderr := runBinary(t, "credentials", "--config", c.InventoryPath(), "--since", since, "--json")
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				var got credentialsOutput
				if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Products) != 1 {
					t.Fatalf("--json: %v\n%s", err, out)
				}
				rep := got.Products[0]
				want, flagged := map[string]bool{}, map[string]bool{}
				for _, s := range seeded.Credentials {
					k := credKey(s.Kind, s.ID, s.Owner, s.Name)
					if want[k] {
						t.Fatalf("the manifest repeats %s", k)
					}
					want[k], flagged[k] = true, s.Intruder
				}
				var missing, extra []string
				seen := map[string]bool{}
				for _, cr := range rep.Credentials {
					k := credKey(cr.Kind, cr.ID, cr.Owner, cr.Name)
					seen[k] = true
					if !want[k] {
						extra = append(extra, k)
						continue
					}
					in := strings.Contains(strings.Join(cr.Flags, ","), sqlstore.FlagCreatedInWindow)
					if in != flagged[k] {
						t.Errorf("%s: created-in-window %v, the intruder's: %v (flags %v)", k, in, flagged[k], cr.Flags)
					}
					if p != atlassian.Bitbucket && cr.Owner == "admin" && (cr.OwnerIsAdmin == nil || !*cr.OwnerIsAdmin) && p == atlassian.Jira {
						t.Errorf("%s: admin's credential not flagged admin-owner", k)
					}
					if cr.Owner == "bitbucket-project-proj-service-user" && !cr.ServiceUser {
						t.Errorf("%s: the project token's user not flagged as a service user", k)
					}
				}
				for k := range want {
					if !seen[k] {
						missing = append(missing, k)
					}
				}
				sort.Strings(missing)
				sort.Strings(extra)
				if len(missing)+len(extra) > 0 {
					t.Errorf("listing differs from the seeded credentials:\n missing %v\n extra   %v", missing, extra)
				}
				if !rep.SSO.On || len(rep.SSO.IdPs) != 1 || rep.SSO.IdPs[0].IdP.Family != issuers[p].family || rep.SSO.IdPs[0].IdP.EndAll == "" {
					t.Errorf("sso: %+v", rep.SSO)
				}
				_, text, _ := runBinary(t, "credentials", "--config", c.InventoryPath(), "--since", since)
				if !strings.Contains(text, "created-in-window") || !strings.Contains(text, string(issuers[p].family)) {
					t.Errorf("table output:\n%s", text)
				}
				secrets := []string{"PKCS5S2", "BBDC-", "ssh-ed25519", "AAAAC3Nza"}
				for _, s := range seeded.Credentials {
					if s.RawFile != "" {
						b, err := os.ReadFile(s.RawFile)
						if err != nil {
							t.Fatal(err)
						}
						secrets = append(secrets, strings.TrimSpace(string(b)))
					}
				}
				for _, s := range secrets {
					if strings.Contains(out, s) || strings.Contains(text, s) || strings.Contains(stderr, s) {
						t.Errorf("the output carries a secret (%.12s…)", s)
					}
				}
			})
		}
	}
}

func TestCredentialsBadInput(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if got, err := parseSince("48h", now); err != nil || !got.Equal(now.Add(-48*time.Hour)) {
		t.Errorf("48h: %v %v", got, err)
	}
	if got, err := parseSince("2025-12-31", now); err != nil || got.Format("2006-01-02") != "2025-12-31" {
		t.Errorf("date: %v %v", got, err)
	}
	for _, bad := range []string{"yesterday", "-5h", "2027-01-01"} {
		if _, err := parseSince(bad, now); err == nil {
			t.Errorf("--since %q accepted", bad)
		}
	}
	code, _, stderr := runCLI(t, nil, "credentials", "--product", "jira", "--home", t.TempDir(), "--since", "soon")
	if code != 2 || !strings.Contains(stderr, "--since") {
		t.Errorf("bad --since: exit %d, %s", code, stderr)
	}
	code, _, stderr = runCLI(t, nil, "credentials", "--config", "x.yaml", "--product", "jira")
	if code != 2 || !strings.Contains(stderr, "not both") {
		t.Errorf("--config with --product: exit %d, %s", code, stderr)
	}
}

// Names and owners come from the database: an intruder can name a token with terminal escapes
// or bidi controls; the table shows them escaped.
func TestCredentialsTableEscapesHostileNames(t *testing.T) {
	var b strings.Builder
	PrintCredentialReport(&b, sqlstore.CredentialReport{Product: "jira", Counts: []sqlstore.KindCount{{Kind: atlassian.KindPAT, Total: 1}},
		Credentials: []sqlstore.Credential{{Kind: atlassian.KindPAT, ID: "1", Owner: "ev\u202eil", Name: "\x1b[2Jwiped", Flags: []string{}}},
		SSO: sqlstore.SSOStatus{Found: true, On: true, IdPs: []sqlstore.IdPConfig{{Name: "x\x1b]0;t\x07", Enabled: true, Issuer: "https://e.example/\x1b[1m",
			IdP: atlassian.IdentityProviderOf("https://e.example/")}}}})
	out := b.String()
	if strings.ContainsAny(out, "\x1b\u202e\x07") {
		t.Fatalf("raw control characters reach the terminal: %q", out)
	}
	if !strings.Contains(out, `\x1b[2Jwiped`) || !strings.Contains(out, `ev\u202eil`) {
		t.Errorf("escaped forms not shown: %q", out)
	}
}
