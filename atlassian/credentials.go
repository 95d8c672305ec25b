package atlassian

import "strings"

// CredentialKind names a kind of credential that logs a user in without a password and outlives
// every browser session: the vocabulary of `reauth credentials` and of a later revocation.
type CredentialKind string

const (
	KindPAT           CredentialKind = "pat"             // Jira/Confluence/Bamboo personal access token
	KindHTTPToken     CredentialKind = "http-token"      // Bitbucket HTTP access token (personal, project, repository)
	KindOAuthAccess   CredentialKind = "oauth-access"    // OAuth 2.0 provider access token
	KindOAuthRefresh  CredentialKind = "oauth-refresh"   // OAuth 2.0 provider refresh token
	KindOAuthAuthCode CredentialKind = "oauth-auth-code" // OAuth 2.0 authorization code not yet exchanged
	KindSSHKey        CredentialKind = "ssh-key"         // Bitbucket SSH key (a user's, or a project/repository access key)
)

// OwnerRef says what a credential row's owner column holds.
type OwnerRef string

const (
	OwnerName    OwnerRef = "name"     // a login name
	OwnerUserKey OwnerRef = "user_key" // a user key (Jira app_user, Confluence user_mapping)
	OwnerUserID  OwnerRef = "user_id"  // a numeric user id (Bitbucket stash_user)
)

// OwnerMap maps the owner column to a login name: SELECT Name FROM Table WHERE Key = owner.
type OwnerMap struct {
	Table, Key, Name string
}

// Companion is a table whose rows go with a credential row (Bitbucket's _PERM rows): Column
// holds the credential's ID. A revocation removes and backs them up with their row.
type Companion struct {
	Table, Column string
}

// CredentialTable is one table that holds one kind of credential, as the product creates it.
// Names are Active Objects' upper-case spelling; the store resolves the real spelling and the
// dialect quotes it (PostgreSQL keeps the quoted upper case).
type CredentialTable struct {
	Kind CredentialKind
	// Name is the table; empty when it is found at run time by FindByColumns (Bamboo).
	Name          string
	FindByColumns []string
	ID            string // primary key (a revocation deletes by it)
	// IDIsSecret: the id is a token's hash or the token itself (OAuth 2.0: the access token's
	// SHA-256, the authorization code): read for a revocation, never shown.
	IDIsSecret bool
	// TokenID is the id a raw token carries (PATs: the first 12 characters of the decoded token),
	// "" when the raw token does not name its row.
	TokenID  string
	Owner    string
	OwnerRef OwnerRef
	Label    string // name or label, "" when none
	// Created, LastUsed and Expiry are time columns ("" when the table has none); TimeKind is how
	// all three are stored. ExpiryDays, when set, is an expiry in days after Created (Bitbucket).
	Created, LastUsed, Expiry string
	ExpiryDays                string
	TimeKind                  TimeKind
	// NeverExpires is the expiry value that means "never" (Jira/Confluence: 9999-12-31); a NULL
	// expiry (or ExpiryDays) means never too.
	NeverExpiresYear int
	// Secrets are columns that hold a hash or key material: never read, never printed.
	Secrets    []string
	Companions []Companion
	// RevokeAPI is the product's per-id REST delete, which fires its own audit event ("" when
	// none is known): placeholders {id}, {user} (the owner's slug). RevokeAPIConfirmed is false
	// where who may call it is UNCONFIRMED.
	RevokeAPI          string
	RevokeAPIConfirmed bool
	// Confirmed is false where the table or its shape is UNCONFIRMED (docs: credentials.md).
	Confirmed bool
	Note      string // what is uncertain, for the report
}

// Columns lists the columns the store reads (never a secret).
func (t CredentialTable) Columns() []string {
	var out []string
	for _, c := range []string{t.ID, t.TokenID, t.Owner, t.Label, t.Created, t.LastUsed, t.Expiry, t.ExpiryDays} {
		if c != "" && !containsFold(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// IdPConfigTable is the SSO for Atlassian Data Center configuration table (the same in Jira,
// Confluence and Bitbucket). Only non-secret columns are named: CLIENT_SECRET and SIGNING_CERT
// are never read.
var IdPConfigTable = struct {
	Name                                                                    string
	ID, NameCol, Enabled, SSOType, Issuer, SSOURL, AuthEndpoint, RememberMe string
	LastUpdated                                                             string
}{
	Name: "AO_ED669C_IDP_CONFIG", ID: "ID", NameCol: "NAME", Enabled: "ENABLED", SSOType: "SSO_TYPE", Issuer: "ISSUER",
	SSOURL: "SSO_URL", AuthEndpoint: "AUTHORIZATION_ENDPOINT", RememberMe: "ENABLE_REMEMBER_ME", LastUpdated: "LAST_UPDATED",
}

// Administrators says how to tell an administrator: a member of one of Groups in the directory's
// cwd_membership (by lower-case names: Jira's and Crowd's shape). Empty Groups: UNCONFIRMED.
type Administrators struct {
	Groups []string
	Note   string
}

// ServiceUsers names the table that lists system-generated users (Bitbucket project/repository
// tokens and access keys): an owner whose id is in Table.Column is a service user. UNCONFIRMED.
type ServiceUsers struct {
	Table, Column string
}

// Credentials is where one product keeps the credentials that outlive its sessions.
type Credentials struct {
	Tables   []CredentialTable
	Owner    OwnerMap // how the owner columns map to login names (zero: they hold names)
	Admins   Administrators
	Service  ServiceUsers
	AuthPath string // an endpoint that demands authentication, for replaying a token ("{user}": the owner's slug)
}

var patTable = CredentialTable{
	Kind: KindPAT, Name: "AO_81F455_PERSONAL_TOKEN", ID: "ID", TokenID: "TOKEN_ID", Owner: "USER_KEY", OwnerRef: OwnerUserKey,
	Label: "NAME", Created: "CREATED_AT", LastUsed: "LAST_ACCESSED_AT", Expiry: "EXPIRING_AT", TimeKind: TimeTimestamp,
	NeverExpiresYear: 9999, Secrets: []string{"HASHED_TOKEN"}, Confirmed: true,
	// The owner or a (system) administrator may delete any token by its numeric ID (TokensResource).
	RevokeAPI: "DELETE /rest/pat/latest/tokens/{id}", RevokeAPIConfirmed: true,
}

// oauthTables are the OAuth 2.0 provider's token tables (prefix AO_FE1BC5_), owner a user key.
// CREATED_AT is epoch ms; there is no expiry column (expiry = CREATED_AT + a system property).
func oauthTables(owner OwnerRef) []CredentialTable {
	base := CredentialTable{ID: "ID", Owner: "USER_KEY", OwnerRef: owner, Label: "CLIENT_ID", Created: "CREATED_AT",
		TimeKind: TimeEpochMS, IDIsSecret: true, Confirmed: true, Note: "expiry is CREATED_AT plus the provider's token lifetime (no column)"}
	access, refresh, code := base, base, base
	access.Kind, access.Name, access.LastUsed = KindOAuthAccess, "AO_FE1BC5_ACCESS_TOKEN", "LAST_ACCESSED"
	access.RevokeAPI = "POST /rest/oauth2/latest/revoke/{id}" // who may call it: UNCONFIRMED
	refresh.Kind, refresh.Name = KindOAuthRefresh, "AO_FE1BC5_REFRESH_TOKEN"
	code.Kind, code.Name, code.ID, code.Secrets = KindOAuthAuthCode, "AO_FE1BC5_AUTHORIZATION", "AUTHORIZATION_CODE", []string{"CODE_CHALLENGE"}
	code.Note = "the id is the authorization code itself: shown only as a row count, never its value"
	return []CredentialTable{access, refresh, code}
}

var credentialCatalog = map[ProductID]Credentials{
	Jira: {
		Tables: append([]CredentialTable{patTable}, oauthTables(OwnerUserKey)...),
		Owner:  OwnerMap{Table: "app_user", Key: "user_key", Name: "lower_user_name"},
		Admins: Administrators{Groups: []string{"jira-administrators", "jira-system-administrators"}},
		// GET /rest/pat/latest/tokens calls enforceAuthenticated(): 401 when anonymous.
		AuthPath: "/rest/pat/latest/tokens",
	},
	Confluence: {
		Tables: append([]CredentialTable{patTable}, oauthTables(OwnerUserKey)...),
		Owner:  OwnerMap{Table: "user_mapping", Key: "user_key", Name: "username"},
		Admins: Administrators{Groups: []string{"confluence-administrators"},
			Note: "read where cwd_membership names groups and users by name; Confluence's id-shaped cwd_membership is not read (admin: unknown)"},
		AuthPath: "/rest/pat/latest/tokens",
	},
	Bitbucket: {
		Tables: append([]CredentialTable{
			{Kind: KindHTTPToken, Name: "AO_E5A814_ACCESS_TOKEN", ID: "TOKEN_ID", TokenID: "TOKEN_ID", Owner: "USER_ID", OwnerRef: OwnerUserID,
				Label: "NAME", Created: "CREATED_DATE", LastUsed: "LAST_AUTHENTICATED", ExpiryDays: "EXPIRY_DAYS", TimeKind: TimeTimestamp,
				Secrets: []string{"HASHED_TOKEN"}, Companions: []Companion{{Table: "AO_E5A814_ACCESS_TOKEN_PERM", Column: "FK_ACCESS_TOKEN_ID"}},
				// Personal tokens; project and repository tokens have their own paths (docs), and
				// the row does not say which a token is.
				RevokeAPI: "DELETE /rest/access-tokens/latest/users/{user}/{id}", RevokeAPIConfirmed: true,
				Confirmed: true, Note: "hash algorithm UNCONFIRMED; EXPIRY_DAYS is absent before the versions that added expiry"},
			{Kind: KindSSHKey, Name: "AO_FB71B4_SSH_PUBLIC_KEY", ID: "ENTITY_ID", Owner: "USER_ID", OwnerRef: OwnerUserID,
				Label: "LABEL", Created: "CREATED_DATE", LastUsed: "LAST_AUTHENTICATED", ExpiryDays: "EXPIRY_DAYS", TimeKind: TimeTimestamp,
				Secrets: []string{"KEY_TEXT"}, Confirmed: true,
				RevokeAPI: "DELETE /rest/ssh/latest/keys/{id}", RevokeAPIConfirmed: true, // ADMIN
				Note: "keys made before 8.7 have no CREATED_DATE, or the day key expiry was turned on: a missing or late date proves nothing"},
		}, oauthTables(OwnerUserKey)...),
		Owner:   OwnerMap{Table: "stash_user", Key: "id", Name: "name"},
		Admins:  Administrators{Note: "Bitbucket's administrators are global permissions, whose table is UNCONFIRMED: admin: unknown"},
		Service: ServiceUsers{Table: "sta_service_user", Column: "user_id"},
		// UNCONFIRMED for a real Bitbucket: listing a user's own tokens needs that user.
		AuthPath: "/rest/access-tokens/latest/users/{user}",
	},
	Bamboo: {
		Tables: []CredentialTable{{Kind: KindPAT, FindByColumns: []string{"TOKEN_ID", "HASHED_TOKEN"}, ID: "TOKEN_ID", TokenID: "TOKEN_ID",
			Owner: "USER_NAME", OwnerRef: OwnerName, Label: "NAME", Created: "CREATION_DATE", TimeKind: TimeTimestamp,
			Secrets: []string{"HASHED_TOKEN"}, Note: "table UNCONFIRMED: the one with columns TOKEN_ID and HASHED_TOKEN",
			// The caller's own tokens; an admin REST call for other users' is UNCONFIRMED.
			RevokeAPI: "DELETE /rest/api/latest/access-token/{id}"}},
		Admins: Administrators{Note: "UNCONFIRMED for Bamboo"},
	},
}

// CredentialsOf returns where product id keeps its credentials; ok is false where nothing is
// known (Fisheye, Crowd).
func CredentialsOf(id ProductID) (Credentials, bool) {
	c, ok := credentialCatalog[id]
	if !ok {
		return Credentials{}, false
	}
	c.Tables = append([]CredentialTable(nil), c.Tables...)
	return c, true
}

// OwnerMapped is the table's owner map: zero when its owner column holds login names. Keys are
// compared as text (Bitbucket's OAuth USER_KEY is its numeric user id written as text).
func (c Credentials) OwnerMapped(t CredentialTable) OwnerMap {
	if t.OwnerRef == OwnerName {
		return OwnerMap{}
	}
	return c.Owner
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
