package atlassian

import (
	"net/url"
	"strings"
)

// IdPFamily is the identity provider an SSO issuer looks like.
type IdPFamily string

const (
	IdPKeycloak IdPFamily = "keycloak"
	IdPOkta     IdPFamily = "okta"
	IdPEntra    IdPFamily = "entra-id"
	IdPOther    IdPFamily = "other"
)

// IdentityProvider is what reauth can say about ending an IdP's sessions. Ending product
// sessions does not end the IdP's (no single logout into Data Center was found), so a user with a
// live IdP session logs straight back in; these calls stop that.
type IdentityProvider struct {
	Family IdPFamily `json:"family"`
	// EndAll is the exact call that ends every session (Keycloak), or the per-user call to repeat
	// for each user (Okta, Entra ID): placeholders in braces.
	EndAll string `json:"end_sessions_call"`
	// Scope is the permission the call needs, "" when not known.
	Scope string `json:"permission,omitempty"`
}

// IdentityProviderOf maps an SSO issuer to its family by the well-known URL patterns (Keycloak
// /realms/<r>, *.okta.com, login.microsoftonline.com/<tenant>/v2.0 or sts.windows.net/<tenant>/),
// with the call that ends its sessions (docs: credentials.md §4). Patterns are not checked against
// a vendor's source: the report says "looks like".
func IdentityProviderOf(issuer string) IdentityProvider {
	u, err := url.Parse(strings.TrimSpace(issuer))
	if err != nil || u.Host == "" {
		return IdentityProvider{Family: IdPOther, EndAll: "end the users' sessions in your identity provider's admin console"}
	}
	host := strings.ToLower(u.Hostname())
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i, p := range parts {
		if p == "realms" && i+1 < len(parts) {
			base := u.Scheme + "://" + u.Host + "/" + strings.Join(parts[:i], "/")
			base = strings.TrimSuffix(base, "/")
			// Old Keycloak serves its admin API under the same /auth prefix as its realms.
			return IdentityProvider{Family: IdPKeycloak, Scope: "realm-management: manage-users",
				EndAll: "POST " + base + "/admin/realms/" + parts[i+1] + "/logout-all"}
		}
	}
	switch {
	case host == "okta.com" || strings.HasSuffix(host, ".okta.com") || strings.HasSuffix(host, ".oktapreview.com"):
		org := u.Scheme + "://" + u.Host
		if host == "www.okta.com" { // a SAML issuer names the app, not the org
			org = "https://{your-org}.okta.com"
		}
		return IdentityProvider{Family: IdPOkta, Scope: "okta.users.manage",
			EndAll: "DELETE " + org + "/api/v1/users/{userId}/sessions?oauthTokens=true (for each user: Okta has no org-wide call)"}
	case host == "login.microsoftonline.com" || host == "sts.windows.net":
		return IdentityProvider{Family: IdPEntra, Scope: "User.RevokeSessions.All",
			EndAll: "POST https://graph.microsoft.com/v1.0/users/{id|userPrincipalName}/revokeSignInSessions (for each user; may take a few minutes)"}
	}
	return IdentityProvider{Family: IdPOther, EndAll: "end the users' sessions in your identity provider's admin console"}
}
