package sqlstore

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/reauth/reauth/atlassian"
)

// Flags a credential can carry (Credential.Flags, in this order).
const (
	FlagCreatedInWindow = "created-in-window" // created at or after --since: the usual sign of an intruder
	FlagUsedInWindow    = "used-in-window"
	FlagNeverExpires    = "never-expires"
	FlagAdminOwner      = "admin-owner"
	FlagServiceUser     = "service-user" // a project/repository token or access key's system user
)

// Credential is one row of a credential table, without its secret or hash.
type Credential struct {
	Kind  atlassian.CredentialKind `json:"kind"`
	Table string                   `json:"table"`
	// ID is the row's id; "" where the id is itself a hash or a token (OAuth 2.0).
	ID string `json:"id,omitempty"`
	// TokenID is the id a raw token carries (the first 12 characters of a decoded PAT).
	TokenID string `json:"token_id,omitempty"`
	Owner   string `json:"owner"`
	// OwnerKey is the stored user key or id when it differs from the login name.
	OwnerKey     string     `json:"owner_key,omitempty"`
	Name         string     `json:"name,omitempty"`
	Created      *time.Time `json:"created,omitempty"`
	LastUsed     *time.Time `json:"last_used,omitempty"`
	Expires      *time.Time `json:"expires,omitempty"`
	NeverExpires bool       `json:"never_expires"`
	// OwnerIsAdmin is null where administrators cannot be told (CredentialReport.AdminsNote).
	OwnerIsAdmin *bool    `json:"owner_is_admin"`
	ServiceUser  bool     `json:"owner_is_service_user"`
	Flags        []string `json:"flags"`
}

// CredentialTableStatus is what was found of one catalog table.
type CredentialTableStatus struct {
	Kind      atlassian.CredentialKind `json:"kind"`
	Table     string                   `json:"table"`
	Found     bool                     `json:"found"`
	Rows      int                      `json:"rows"`
	Confirmed bool                     `json:"confirmed"`
	Note      string                   `json:"note,omitempty"`
}

// KindCount is the counts of one kind.
type KindCount struct {
	Kind            atlassian.CredentialKind `json:"kind"`
	Total           int                      `json:"total"`
	CreatedInWindow int                      `json:"created_in_window"`
	UsedInWindow    int                      `json:"used_in_window"`
	NeverExpires    int                      `json:"never_expires"`
	AdminOwned      int                      `json:"admin_owned"`
}

// IdPConfig is one SSO identity provider as AO_ED669C_IDP_CONFIG holds it (no secret read).
type IdPConfig struct {
	Name            string                     `json:"name"`
	Enabled         bool                       `json:"enabled"`
	Type            string                     `json:"type"` // SAML or OIDC
	Issuer          string                     `json:"issuer"`
	IdP             atlassian.IdentityProvider `json:"identity_provider"`
	RememberMe      bool                       `json:"remember_me"`
	LastUpdated     *time.Time                 `json:"last_updated,omitempty"`
	ChangedInWindow bool                       `json:"changed_in_window"`
}

// SSOStatus is the product's SSO for Atlassian Data Center configuration.
type SSOStatus struct {
	// Found is false when the product has no such table (the SSO app was never installed).
	Found bool        `json:"found"`
	On    bool        `json:"on"`
	IdPs  []IdPConfig `json:"idps"`
	// Alarm is set when a configuration changed inside the window: an intruder with admin rights
	// could point SSO at an identity provider of their own.
	Alarm string `json:"alarm,omitempty"`
}

// CredentialReport is everything `reauth credentials` found for one product.
type CredentialReport struct {
	Product     string                  `json:"product"`
	Since       *time.Time              `json:"since,omitempty"`
	Counts      []KindCount             `json:"counts"`
	Tables      []CredentialTableStatus `json:"tables"`
	Credentials []Credential            `json:"credentials"`
	SSO         SSOStatus               `json:"sso"`
	// AdminsNote says how administrators were told, or why they could not be.
	AdminsNote string `json:"admins_note,omitempty"`
}

// ownerNames maps stored owner values (user keys, ids as text) to login names.
type ownerNames map[string]string

// ReadCredentials reads every credential table the catalog names for p, and its SSO
// configuration, and flags what since (zero: no window) and the owners say.
func (r *CredentialReader) ReadCredentials(ctx context.Context, p atlassian.Product, since time.Time) (CredentialReport, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	rep := CredentialReport{Product: string(p.ID), Counts: []KindCount{}, Tables: []CredentialTableStatus{}, Credentials: []Credential{}}
	if !since.IsZero() {
		s := since.UTC()
		rep.Since = &s
	}
	cat, ok := atlassian.CredentialsOf(p.ID)
	if !ok {
		rep.AdminsNote = p.Name + "'s credentials are not researched: nothing read"
		return rep, nil
	}
	names := map[atlassian.OwnerMap]ownerNames{}
	for _, t := range cat.Tables {
		m := cat.OwnerMapped(t)
		if _, done := names[m]; !done {
			n, err := r.ownerNames(ctx, m)
			if err != nil {
				return rep, err
			}
			names[m] = n
		}
		creds, st, err := r.readTable(ctx, t, names[m])
		if err != nil {
			return rep, err
		}
		rep.Tables = append(rep.Tables, st)
		rep.Credentials = append(rep.Credentials, creds...)
	}
	admins, note, err := r.admins(ctx, cat.Admins)
	if err != nil {
		return rep, err
	}
	rep.AdminsNote = note
	service, err := r.serviceUsers(ctx, cat.Service)
	if err != nil {
		return rep, err
	}
	for i := range rep.Credentials {
		flag(&rep.Credentials[i], since, admins, service)
	}
	rep.Counts = countKinds(rep.Credentials)
	if rep.SSO, err = r.readSSO(ctx, since); err != nil {
		return rep, err
	}
	return rep, nil
}

// flag sets a credential's flags. admins nil: administrators unknown.
func flag(c *Credential, since time.Time, admins map[string]bool, service map[string]bool) {
	c.Flags = []string{}
	in := func(t *time.Time) bool { return t != nil && !since.IsZero() && !t.Before(since) }
	if in(c.Created) {
		c.Flags = append(c.Flags, FlagCreatedInWindow)
	}
	if in(c.LastUsed) {
		c.Flags = append(c.Flags, FlagUsedInWindow)
	}
	if c.NeverExpires {
		c.Flags = append(c.Flags, FlagNeverExpires)
	}
	if admins != nil {
		a := admins[strings.ToLower(c.Owner)]
		c.OwnerIsAdmin = &a
		if a {
			c.Flags = append(c.Flags, FlagAdminOwner)
		}
	}
	if c.OwnerKey != "" && service[c.OwnerKey] || c.OwnerKey == "" && service[c.Owner] {
		c.ServiceUser = true
		c.Flags = append(c.Flags, FlagServiceUser)
	}
}

func countKinds(creds []Credential) []KindCount {
	by := map[atlassian.CredentialKind]*KindCount{}
	var order []atlassian.CredentialKind
	for _, c := range creds {
		k := by[c.Kind]
		if k == nil {
			k = &KindCount{Kind: c.Kind}
			by[c.Kind], order = k, append(order, c.Kind)
		}
		k.Total++
		for _, f := range c.Flags {
			switch f {
			case FlagCreatedInWindow:
				k.CreatedInWindow++
			case FlagUsedInWindow:
				k.UsedInWindow++
			case FlagNeverExpires:
				k.NeverExpires++
			case FlagAdminOwner:
				k.AdminOwned++
			}
		}
	}
	out := []KindCount{}
	for _, k := range order {
		out = append(out, *by[k])
	}
	return out
}

// pairs reads two columns of a table as text: SELECT a, b FROM table.
func (r *CredentialReader) pairs(ctx context.Context, table, a, b, cond string, args ...any) ([][2]string, error) {
	q := "SELECT " + r.d.Quote(a) + ", " + r.d.Quote(b) + " FROM " + r.d.Qualify(r.schema, table) + where(cond)
	rows, err := r.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var x, y any
		if err := rows.Scan(&x, &y); err != nil {
			return nil, fmt.Errorf("read %s: %w", table, err)
		}
		out = append(out, [2]string{asString(x), asString(y)})
	}
	return out, rows.Err()
}

// ownerNames loads the owner map (user key or id -> login name); empty when the table is absent.
func (r *CredentialReader) ownerNames(ctx context.Context, m atlassian.OwnerMap) (ownerNames, error) {
	out := ownerNames{}
	table := r.realTable(m.Table)
	if m.Table == "" || table == "" {
		return out, nil
	}
	cols, err := r.columns(ctx, table)
	if err != nil {
		return nil, err
	}
	k, n := colOf(cols, m.Key), colOf(cols, m.Name)
	if k == "" || n == "" {
		return out, nil
	}
	ps, err := r.pairs(ctx, table, k, n, "")
	for _, p := range ps {
		out[p[0]] = p[1]
	}
	return out, err
}

// admins lists the lower-case login names of the administrators: members of a.Groups in a
// cwd_membership that names groups and users (Jira's shape). nil when they cannot be told.
func (r *CredentialReader) admins(ctx context.Context, a atlassian.Administrators) (map[string]bool, string, error) {
	if len(a.Groups) == 0 {
		return nil, a.Note, nil
	}
	table := r.realTable("cwd_membership")
	if table == "" {
		return nil, "no cwd_membership table: administrators unknown", nil
	}
	cols, err := r.columns(ctx, table)
	if err != nil {
		return nil, "", err
	}
	parent, child := colOf(cols, "lower_parent_name"), colOf(cols, "lower_child_name")
	if parent == "" || child == "" {
		return nil, strings.TrimPrefix(a.Note+"; cwd_membership does not name groups and users: administrators unknown", "; "), nil
	}
	q := &query{d: r.d}
	cond := r.d.Quote(parent) + " IN (" + q.list(a.Groups) + ")"
	if mt := colOf(cols, "membership_type"); mt != "" {
		cond += " AND " + r.d.Quote(mt) + " = " + q.arg("GROUP_USER")
	}
	ps, err := r.pairs(ctx, table, child, parent, cond, q.args...)
	out := map[string]bool{}
	for _, p := range ps {
		out[strings.ToLower(p[0])] = true
	}
	return out, "administrators: members of " + strings.Join(a.Groups, ", "), err
}

// serviceUsers lists the ids of system-generated users (Bitbucket), empty when unknown.
func (r *CredentialReader) serviceUsers(ctx context.Context, s atlassian.ServiceUsers) (map[string]bool, error) {
	out := map[string]bool{}
	table := r.realTable(s.Table)
	if s.Table == "" || table == "" {
		return out, nil
	}
	cols, err := r.columns(ctx, table)
	if err != nil {
		return nil, err
	}
	c := colOf(cols, s.Column)
	if c == "" {
		return out, nil
	}
	ps, err := r.pairs(ctx, table, c, c, "")
	for _, p := range ps {
		out[p[0]] = true
	}
	return out, err
}

// Kinds lists the kinds a report holds rows of, sorted.
func (rep CredentialReport) Kinds() []string {
	var out []string
	for _, k := range rep.Counts {
		out = append(out, string(k.Kind))
	}
	sort.Strings(out)
	return out
}
