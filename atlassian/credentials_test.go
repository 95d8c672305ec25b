package atlassian

import (
	"strings"
	"testing"
)

// The test vector of passlib's atlassian_pbkdf2_sha1 (docs: credentials.md §7).
func TestPKCS5S2KnownVector(t *testing.T) {
	const h = "{PKCS5S2}DQIXJU038u4P7FdsuFTY/+35bm41kfjZa57UrdxHp2Mu3qF2uy+ooD+jF5t1tb8J"
	if !CheckPKCS5S2(h, "password") {
		t.Fatal("the published hash of \"password\" does not check")
	}
	for _, bad := range []string{"Password", "", "password "} {
		if CheckPKCS5S2(h, bad) {
			t.Errorf("%q matched", bad)
		}
	}
	for _, malformed := range []string{"", "{PKCS5S2}", "{PKCS5S2}!!!", strings.TrimPrefix(h, "{PKCS5S2}")} {
		if CheckPKCS5S2(malformed, "password") {
			t.Errorf("malformed hash %q matched", malformed)
		}
	}
	mine, err := HashPKCS5S2("s3cret")
	if err != nil || !CheckPKCS5S2(mine, "s3cret") || CheckPKCS5S2(mine, "other") {
		t.Fatalf("fresh hash %q does not round-trip (%v)", mine, err)
	}
}

// Every table a revocation could drive names an id, an owner and a kind, and never reads a
// column it lists as secret.
func TestCredentialCatalogShape(t *testing.T) {
	want := map[ProductID][]CredentialKind{
		Jira:       {KindPAT, KindOAuthAccess, KindOAuthRefresh, KindOAuthAuthCode},
		Confluence: {KindPAT, KindOAuthAccess, KindOAuthRefresh, KindOAuthAuthCode},
		Bitbucket:  {KindHTTPToken, KindSSHKey, KindOAuthAccess, KindOAuthRefresh, KindOAuthAuthCode},
		Bamboo:     {KindPAT},
	}
	for id, kinds := range want {
		c, ok := CredentialsOf(id)
		if !ok || len(c.Tables) != len(kinds) {
			t.Fatalf("%s: %d tables, want %v", id, len(c.Tables), kinds)
		}
		for i, tb := range c.Tables {
			if tb.Kind != kinds[i] || tb.ID == "" || tb.Owner == "" || (tb.Name == "" && len(tb.FindByColumns) == 0) {
				t.Errorf("%s table %d: %+v", id, i, tb)
			}
			for _, col := range tb.Columns() {
				if containsFold(tb.Secrets, col) && col != tb.ID {
					t.Errorf("%s %s reads secret column %s", id, tb.Kind, col)
				}
			}
			if tb.Name != "" && tb.Name != strings.ToUpper(tb.Name) {
				t.Errorf("%s: Active Objects names are upper case: %s", id, tb.Name)
			}
		}
	}
	if _, ok := CredentialsOf(Fisheye); ok {
		t.Error("Fisheye's credentials are not researched: the catalog must not pretend")
	}
	jira, _ := CredentialsOf(Jira)
	if jira.Tables[0].RevokeAPI != "DELETE /rest/pat/latest/tokens/{id}" || !jira.Tables[0].RevokeAPIConfirmed {
		t.Errorf("Jira's PAT delete: %q", jira.Tables[0].RevokeAPI)
	}
	bb, _ := CredentialsOf(Bitbucket)
	if got := bb.Tables[0].Companions; len(got) != 1 || got[0].Table != "AO_E5A814_ACCESS_TOKEN_PERM" {
		t.Errorf("Bitbucket's token permissions must go with their token: %+v", got)
	}
}

func TestIdentityProviderOf(t *testing.T) {
	for issuer, want := range map[string]IdPFamily{
		"https://sso.example.com/realms/corp":                                         IdPKeycloak,
		"https://sso.example.com/auth/realms/corp/":                                   IdPKeycloak,
		"https://dev-123.okta.com/oauth2/default":                                     IdPOkta,
		"http://www.okta.com/exk1fcia6d6EMsf331d8":                                    IdPOkta,
		"https://login.microsoftonline.com/0c1e3b3a-1111-2222-3333-444455556666/v2.0": IdPEntra,
		"https://sts.windows.net/0c1e3b3a-1111-2222-3333-444455556666/":               IdPEntra,
		"https://adfs.example.com/adfs/services/trust":                                IdPOther,
		"": IdPOther,
	} {
		if got := IdentityProviderOf(issuer); got.Family != want {
			t.Errorf("%q: %s, want %s", issuer, got.Family, want)
		}
	}
	kc := IdentityProviderOf("https://sso.example.com/realms/corp")
	if !strings.Contains(kc.EndAll, "POST https://sso.example.com/admin/realms/corp/logout-all") {
		t.Errorf("Keycloak's call: %q", kc.EndAll)
	}
	en := IdentityProviderOf("https://login.microsoftonline.com/t1/v2.0")
	if !strings.Contains(en.EndAll, "revokeSignInSessions") {
		t.Errorf("Entra's call: %q", en.EndAll)
	}
}
