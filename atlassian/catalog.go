// Package atlassian knows the products: the catalog of facts (cookies, token tables, config files,
// readiness endpoints, login forms) as data, and the readers that turn a product's home directory
// into a database target (config files, JDBC URLs, password ciphers).
package atlassian

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ProductID names a product on the command line and in inventories.
type ProductID string

const (
	Jira       ProductID = "jira"
	Confluence ProductID = "confluence"
	Bitbucket  ProductID = "bitbucket"
	Bamboo     ProductID = "bamboo"
	Fisheye    ProductID = "fisheye"
	Crowd      ProductID = "crowd"
)

// TimeKind says how a token table stores its time column.
type TimeKind string

const (
	TimeNone      TimeKind = ""          // no usable time column
	TimeTimestamp TimeKind = "timestamp" // SQL timestamp (with or without time zone)
	TimeEpochMS   TimeKind = "epoch_ms"  // bigint milliseconds since 1970 (Confluence)
)

// TokenTable describes a product's remember-me token table as the product creates it. Names are
// the spelling in Atlassian's own DDL; the store resolves the real spelling case-insensitively.
type TokenTable struct {
	// Name is the table name; empty when it must be found at run time (Fisheye: NameContains).
	Name         string
	NameContains string
	ID           string // monotonic numeric id: the cut-off is "id <= highest id seen at start"
	// User is the column that names the token's owner: a login name, a Jira user key, or a
	// numeric user id (UserIDTable then maps it to a login name).
	User string
	// UserIDTable, when set, maps User (a numeric id) to a login name: SELECT UserIDNameColumn
	// FROM UserIDTable WHERE UserIDKeyColumn = user. (Bitbucket: stash_user.id -> name; UNCONFIRMED.)
	UserIDTable, UserIDKeyColumn, UserIDNameColumn string
	// UserKeyTable maps login names to user keys (Jira 8+: app_user.lower_user_name -> user_key):
	// the User column may hold either.
	UserKeyTable, UserKeyKeyColumn, UserKeyNameColumn string
	Time                                              string   // time column ("" when none)
	TimeKind                                          TimeKind //
	// TimeIsExpiry is true when Time is an expiry (Bitbucket) rather than a creation time.
	TimeIsExpiry bool
	// Columns lists every column the product's DDL has, in order; the store refuses a table that
	// lacks one of Required.
	Columns  []string
	Required []string
	// Confirmed is false where the table's shape is UNCONFIRMED (docs/atlassian.md): the operator
	// must confirm it (--table) or override it.
	Confirmed bool
	// Keep, when set, names rows that are never a browser's session and must never be read for a
	// purge nor deleted (Crowd's cwd_token also holds the applications' own tokens). The
	// inventory's app_token_rule overrides it.
	Keep RowRule
}

// RowRule is "Column = Equals": a row it matches is left alone by every purge, count and list.
// The zero value matches nothing.
type RowRule struct {
	Column string
	Equals int64
}

// IsZero reports whether the rule matches nothing.
func (r RowRule) IsZero() bool { return r.Column == "" }

// String is the rule as the inventory's app_token_rule writes it.
func (r RowRule) String() string {
	if r.IsZero() {
		return ""
	}
	return fmt.Sprintf("%s = %d", r.Column, r.Equals)
}

// ParseRowRule reads "column = integer" (the inventory's app_token_rule). The column must be a
// plain identifier: it is quoted by the store, never pasted into SQL as written.
func ParseRowRule(s string) (RowRule, error) {
	col, val, ok := strings.Cut(s, "=")
	col, val = strings.TrimSpace(col), strings.TrimSpace(val)
	if !ok || col == "" || val == "" {
		return RowRule{}, fmt.Errorf("%q is not \"column = integer\" (e.g. \"directory_id = -1\")", s)
	}
	for i, c := range col {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return RowRule{}, fmt.Errorf("%q: the column must be a plain name (letters, digits, _)", s)
		}
	}
	n, err := strconv.ParseInt(val, 10, 64)
	if err != nil {
		return RowRule{}, fmt.Errorf("%q: the value must be an integer", s)
	}
	return RowRule{Column: col, Equals: n}, nil
}

// CrowdAppTokenRule tells Crowd's application tokens from users' sessions in cwd_token: Crowd's
// AuthenticationToken.APPLICATION_TOKEN_DIRECTORY_ID is -1, and isApplicationToken() is
// "directoryId == -1" (Crowd's model.token source). UNCONFIRMED for every Crowd version, hence the
// inventory's app_token_rule.
var CrowdAppTokenRule = RowRule{Column: "directory_id", Equals: -1}

// Readiness is how a node says it is ready: GET Path, HTTP 200 and JSON key StateKey = "RUNNING".
type Readiness struct {
	Path     string
	StateKey string
	// StartingCode is the HTTP status the product answers while STARTING (Jira 200, Bitbucket 503).
	StartingCode int
	// Confirmed is false where no documented endpoint exists (Fisheye).
	Confirmed bool
}

// Login is the product's login form and "who am I" endpoint.
type Login struct {
	Path          string // form POST path
	UserField     string
	PasswordField string
	RememberField string // the remember-me checkbox field
	RememberValue string // the value the browser sends when it is ticked
	// WhoAmIPath answers 200 (as the user) when logged in, and 401 or a login redirect when not.
	WhoAmIPath string
	Confirmed  bool
}

// Product is everything reauth knows about one product.
type Product struct {
	ID               ProductID
	Name             string
	SessionCookie    string
	RememberMeCookie string
	// SSOCookie is the single sign-on cookie other applications trust ("" where none): Crowd's
	// crowd.token_key holds a cwd_token row's random_hash.
	SSOCookie        string
	RememberMeFormat string // "plain" or "base64(series:token)" (Bitbucket)
	ConfigFile       string // relative to the home directory
	ConfigFormat     string // "dbconfig", "hibernate-xml", "properties", "fisheye-xml"
	Table            TokenTable
	Ready            Readiness
	Login            Login
	DefaultPort      int
	ContextPath      string // "" or e.g. "/crowd"
	ServiceName      string // Linux installer service name (UNCONFIRMED except Bitbucket)
	Clustered        bool
	// SessionAPI is the per-user session invalidation REST path template ("{username}"), "" if none.
	SessionAPI        string
	SessionAPIVersion string // minimum product version that has SessionAPI
	EnvJDBCPrefix     string // env vars the official images use: ATL_JDBC_ / JDBC_
	// SeraphConfig is the seraph-config.xml that sets the remember-me cookie name
	// (login.cookie.key), relative to the install directory; "" where the product has none.
	SeraphConfig string
	// Proof says how a token row becomes a remember-me cookie (proofcookie.go); the inventory's
	// proof_cookie overrides Format.
	Proof ProofCookie
	// Companion is a second token table purged with Table, under the same lock and into its own
	// backup (Crowd: cwd_remember_me_token beside cwd_token); zero Name where there is none.
	Companion TokenTable
}

// FurtherTables is every token table purged with Table, in order, each under the same lock and
// into its own backup: a run, a resume and revoke treat each alike (Crowd: its Companion).
func (p Product) FurtherTables() []TokenTable {
	if p.Companion.Name == "" {
		return nil
	}
	return []TokenTable{p.Companion}
}

// seraphProof: Seraph's cookie is "<id>:<token>" (DefaultRememberMeService; browsers show the
// colon URL-encoded as %3A, and Seraph decodes it), and the row's token column holds the token.
var seraphProof = ProofCookie{Format: "{id}:{token}", TokenColumn: "token", Confirmed: true}

var seraphTable = TokenTable{
	Name: "remembermetoken", ID: "id", User: "username", Time: "created",
	Columns:  []string{"id", "created", "token", "username"},
	Required: []string{"id", "created", "token", "username"},
}

var catalog = map[ProductID]Product{
	Jira: {
		ID: Jira, Name: "Jira", SessionCookie: "JSESSIONID", RememberMeCookie: "seraph.rememberme.cookie",
		RememberMeFormat: "plain", ConfigFile: "dbconfig.xml", ConfigFormat: "dbconfig",
		Table: func() TokenTable {
			t := seraphTable
			t.TimeKind, t.Confirmed = TimeTimestamp, true
			t.UserKeyTable, t.UserKeyKeyColumn, t.UserKeyNameColumn = "app_user", "user_key", "lower_user_name"
			return t
		}(),
		Ready:       Readiness{Path: "/status", StateKey: "state", StartingCode: 200, Confirmed: true},
		Login:       Login{Path: "/login.jsp", UserField: "os_username", PasswordField: "os_password", RememberField: "os_cookie", RememberValue: "true", WhoAmIPath: "/rest/auth/1/session", Confirmed: true},
		DefaultPort: 8080, ServiceName: "jira", Clustered: true,
		SessionAPI: "/rest/api/2/user/session/{username}", SessionAPIVersion: "9.11.0", EnvJDBCPrefix: "ATL_JDBC_",
		SeraphConfig: "atlassian-jira/WEB-INF/classes/seraph-config.xml", Proof: seraphProof,
	},
	Confluence: {
		ID: Confluence, Name: "Confluence", SessionCookie: "JSESSIONID", RememberMeCookie: "seraph.confluence",
		RememberMeFormat: "plain", ConfigFile: "confluence.cfg.xml", ConfigFormat: "hibernate-xml",
		Table: func() TokenTable {
			t := seraphTable
			t.TimeKind, t.Confirmed = TimeEpochMS, true
			return t
		}(),
		Ready:       Readiness{Path: "/status", StateKey: "state", StartingCode: 200, Confirmed: true},
		Login:       Login{Path: "/dologin.action", UserField: "os_username", PasswordField: "os_password", RememberField: "os_cookie", RememberValue: "true", WhoAmIPath: "/rest/api/user/current", Confirmed: false},
		DefaultPort: 8090, ServiceName: "confluence", Clustered: true, EnvJDBCPrefix: "ATL_JDBC_",
		SeraphConfig: "confluence/WEB-INF/classes/seraph-config.xml", Proof: seraphProof,
	},
	Bitbucket: {
		ID: Bitbucket, Name: "Bitbucket", SessionCookie: "BITBUCKETSESSIONID", RememberMeCookie: "_atl_bitbucket_remember_me",
		RememberMeFormat: "base64(series:token)", ConfigFile: "shared/bitbucket.properties", ConfigFormat: "properties",
		Table: TokenTable{
			Name: "sta_remember_me_token", ID: "id", User: "user_id",
			UserIDTable: "stash_user", UserIDKeyColumn: "id", UserIDNameColumn: "name",
			Time: "expiry_timestamp", TimeKind: TimeTimestamp, TimeIsExpiry: true,
			Columns:   []string{"id", "series", "token", "user_id", "expiry_timestamp", "claimed", "claimed_address"},
			Required:  []string{"id", "series", "token", "user_id", "expiry_timestamp"},
			Confirmed: true,
		},
		Ready:       Readiness{Path: "/status", StateKey: "state", StartingCode: 503, Confirmed: true},
		Login:       Login{Path: "/j_atl_security_check", UserField: "j_username", PasswordField: "j_password", RememberField: "_atl_remember_me", RememberValue: "on", WhoAmIPath: "/plugins/servlet/applinks/whoami", Confirmed: false},
		DefaultPort: 7990, ServiceName: "atlbitbucket", Clustered: true, EnvJDBCPrefix: "JDBC_",
		// UNCONFIRMED: whether the token column holds the cookie's token as is (it may be hashed).
		Proof: ProofCookie{Format: "base64({series}:{token})", TokenColumn: "token", SeriesColumn: "series",
			Fixed: map[string]any{"claimed": false}},
	},
	Bamboo: {
		ID: Bamboo, Name: "Bamboo", SessionCookie: "JSESSIONID", RememberMeCookie: "seraph.bamboo",
		RememberMeFormat: "plain", ConfigFile: "bamboo.cfg.xml", ConfigFormat: "hibernate-xml",
		Table: func() TokenTable {
			t := seraphTable // UNCONFIRMED: Seraph's shape is the likely one
			t.Name, t.TimeKind = "rememberme_token", TimeTimestamp
			// Only what a purge needs is required: the time column is used when it is there
			// (inspect's oldest/newest, --before), so a table without it still works.
			t.Required = []string{"id", "token", "username"}
			return t
		}(),
		Ready:       Readiness{Path: "/rest/api/latest/status", StateKey: "status", StartingCode: 200, Confirmed: true},
		Login:       Login{Path: "/userlogin.action", UserField: "os_username", PasswordField: "os_password", RememberField: "os_cookie", RememberValue: "true", WhoAmIPath: "/rest/api/latest/currentUser", Confirmed: false},
		DefaultPort: 8085, ServiceName: "bamboo", Clustered: false,
		SessionAPI: "/rest/admin/latest/session/{username}", SessionAPIVersion: "9.4.0", EnvJDBCPrefix: "ATL_JDBC_",
		SeraphConfig: "atlassian-bamboo/WEB-INF/classes/seraph-config.xml", Proof: seraphProof,
	},
	Fisheye: {
		ID: Fisheye, Name: "Fisheye/Crucible", SessionCookie: "FESESSIONID", RememberMeCookie: "remember",
		RememberMeFormat: "plain", ConfigFile: "config.xml", ConfigFormat: "fisheye-xml",
		Table: TokenTable{ // UNCONFIRMED: found at run time, confirmed by the operator
			NameContains: "remember", ID: "id", User: "username", Time: "created", TimeKind: TimeTimestamp,
			Columns: []string{"id", "username", "token", "created"}, Required: []string{"id", "username"},
		},
		Ready:       Readiness{Path: "/rest-service-fecru/server-v1", StateKey: "", StartingCode: 503, Confirmed: false},
		Login:       Login{Path: "/login", UserField: "username", PasswordField: "password", RememberField: "rememberme", RememberValue: "true", WhoAmIPath: "/rest-service/auth-v1/whoami", Confirmed: false},
		DefaultPort: 8060, ServiceName: "fisheye", Clustered: false,
		Proof: ProofCookie{Format: "{id}:{token}", TokenColumn: "token"}, // UNCONFIRMED
	},
	Crowd: {
		ID: Crowd, Name: "Crowd", SessionCookie: "JSESSIONID", RememberMeCookie: "crowd.rememberme.token", SSOCookie: "crowd.token_key",
		RememberMeFormat: "plain", ConfigFile: "shared/crowd.cfg.xml", ConfigFormat: "hibernate-xml",
		// cwd_token holds the users' SSO sessions (crowd.token_key = random_hash) AND the
		// applications' tokens: Keep leaves the latter alone. Columns as in a real Crowd 5
		// PostgreSQL dump (id, directory_id, entity_name, random_number, identifier_hash,
		// random_hash, created_date, last_accessed_date, last_accessed_time, duration).
		Table: TokenTable{
			Name: "cwd_token", ID: "id", User: "entity_name", Time: "created_date", TimeKind: TimeTimestamp,
			Columns: []string{"id", "directory_id", "entity_name", "random_number", "identifier_hash", "random_hash",
				"created_date", "last_accessed_date", "last_accessed_time", "duration"},
			Required: []string{"id", "directory_id", "entity_name", "random_hash"},
			Keep:     CrowdAppTokenRule,
		},
		// Crowd's own remember-me (CrowdRememberMeService, Crowd 3.4+): a browser holding it gets a
		// new SSO session from the Crowd console. Same real dump.
		Companion: TokenTable{
			Name: "cwd_remember_me_token", ID: "id", User: "username", Time: "created_date", TimeKind: TimeTimestamp,
			Columns:  []string{"id", "username", "remote_address", "token", "series", "created_date", "used_date", "directory_id"},
			Required: []string{"id", "username", "token", "series"},
		},
		Ready:       Readiness{Path: "/status", StateKey: "state", StartingCode: 200, Confirmed: true},
		Login:       Login{Path: "/console/j_spring_security_check", UserField: "j_username", PasswordField: "j_password", RememberField: "_spring_security_remember_me", RememberValue: "on", Confirmed: false},
		DefaultPort: 8095, ContextPath: "/crowd", ServiceName: "crowd", Clustered: true, EnvJDBCPrefix: "ATL_JDBC_",
		// Crowd's per-user SSO session invalidation: RestCrowdClient.invalidateSSOTokensForUser
		// calls DELETE /session?username= under /rest/usermanagement/1 (CWD-2876), authenticated as
		// an APPLICATION (its name and password in the inventory's admin block). The Crowd version
		// that brought it, its answer for an unknown user (reauth's probe expects 404) and its
		// success status (reauth counts 204 only) are UNCONFIRMED: anything else refuses API mode.
		SessionAPI: "/rest/usermanagement/1/session?username={username}", SessionAPIVersion: "2.7.0",
		// The proof replays crowd.token_key = a row's random_hash. UNCONFIRMED: a real Crowd also
		// checks a token's validation factors (identifier_hash), so a minted or sampled row may
		// not be accepted from reauth's host; the inventory's proof_cookie: "{token}" confirms.
		// Crowd documents no "who am I" for a browser's SSO cookie: whoami_path names one.
		Proof: ProofCookie{Format: "{token}", TokenColumn: "random_hash", Cookie: "crowd.token_key",
			Fixed:    map[string]any{"directory_id": int64(0), "random_number": int64(0), "identifier_hash": "reauth-proof"},
			AlsoTime: []string{"last_accessed_date"}},
	},
}

// Lookup returns the product named id (case-insensitive), or an error listing the known ones.
func Lookup(id string) (Product, error) {
	p, ok := catalog[ProductID(strings.ToLower(strings.TrimSpace(id)))]
	if !ok {
		return Product{}, fmt.Errorf("unknown product %q: use one of %s", id, strings.Join(Names(), ", "))
	}
	return p, nil
}

// Names lists the product ids, in a stable order.
func Names() []string {
	out := make([]string, 0, len(catalog))
	for id := range catalog {
		out = append(out, string(id))
	}
	sort.Strings(out)
	return out
}

// All returns every product, in a stable order.
func All() []Product {
	out := make([]Product, 0, len(catalog))
	for _, n := range Names() {
		out = append(out, catalog[ProductID(n)])
	}
	return out
}
