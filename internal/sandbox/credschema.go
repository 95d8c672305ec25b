package sandbox

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

// Credential tables as the products' Active Objects plugins create them (docs: credentials.md;
// column names and types of the public dumps): upper-case names, which PostgreSQL keeps only
// quoted, so every statement here quotes them, as Active Objects does.

// aoQuote quotes an Active Objects name for engine e.
func aoQuote(e reauth.Engine, name string) string {
	if e == reauth.MariaDB {
		return "`" + name + "`"
	}
	return `"` + name + `"`
}

// aoDDL expands a statement whose Active Objects names are written {NAME}, and whose time and
// boolean types are written TS and BOOL.
func aoDDL(e reauth.Engine, q string) string {
	ts, boolean, tail := "timestamp without time zone", "boolean", ""
	switch e {
	case reauth.MariaDB:
		ts, tail = "datetime", " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
	case reauth.SQLite:
		ts = "TIMESTAMP"
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(q, '{')
		if i < 0 {
			b.WriteString(q)
			break
		}
		j := strings.IndexByte(q[i:], '}') + i
		b.WriteString(q[:i])
		b.WriteString(aoQuote(e, q[i+1:j]))
		q = q[j+1:]
	}
	out := strings.NewReplacer(" TS", " "+ts, " BOOL", " "+boolean).Replace(b.String())
	if strings.HasPrefix(out, "CREATE TABLE") {
		out += tail
	}
	return out
}

const (
	ddlPAT = "CREATE TABLE {AO_81F455_PERSONAL_TOKEN} ({CREATED_AT} TS NOT NULL, {EXPIRING_AT} TS NOT NULL, {HASHED_TOKEN} varchar(255) NOT NULL, " +
		"{ID} bigint NOT NULL, {LAST_ACCESSED_AT} TS, {NAME} varchar(255) NOT NULL, {NOTIFICATION_STATE} varchar(255) NOT NULL, " +
		"{TOKEN_ID} varchar(255) NOT NULL, {USER_KEY} varchar(255) NOT NULL, PRIMARY KEY ({ID}))"
	ddlHTTPToken = "CREATE TABLE {AO_E5A814_ACCESS_TOKEN} ({CREATED_DATE} TS NOT NULL, {EXPIRY_DAYS} integer, {HASHED_TOKEN} varchar(255) NOT NULL, " +
		"{LAST_AUTHENTICATED} TS, {NAME} varchar(255) NOT NULL, {TOKEN_ID} varchar(255) NOT NULL, {USER_ID} integer NOT NULL, PRIMARY KEY ({TOKEN_ID}))"
	ddlHTTPPerm = "CREATE TABLE {AO_E5A814_ACCESS_TOKEN_PERM} ({FK_ACCESS_TOKEN_ID} varchar(255) NOT NULL, {ID} integer NOT NULL, {PERMISSION} integer NOT NULL, PRIMARY KEY ({ID}))"
	ddlSSHKey   = "CREATE TABLE {AO_FB71B4_SSH_PUBLIC_KEY} ({CREATED_DATE} TS, {ENTITY_ID} integer NOT NULL, {EXPIRY_DAYS} integer, {KEY_MD5} varchar(32) NOT NULL, " +
		"{KEY_TEXT} text NOT NULL, {KEY_TYPE} varchar(255), {LABEL} varchar(255), {LABEL_LOWER} varchar(255), {LAST_AUTHENTICATED} TS, {USER_ID} integer NOT NULL, PRIMARY KEY ({ENTITY_ID}))"
	ddlOAuthClient = "CREATE TABLE {AO_FE1BC5_CLIENT} ({CLIENT_ID} varchar(255) NOT NULL, {CLIENT_SECRET} varchar(255) NOT NULL, {ID} varchar(255) NOT NULL, " +
		"{NAME} varchar(255) NOT NULL, {SCOPE} varchar(255), {USER_KEY} varchar(255) NOT NULL, PRIMARY KEY ({ID}))"
	ddlOAuthAccess = "CREATE TABLE {AO_FE1BC5_ACCESS_TOKEN} ({AUTHORIZATION_CODE} varchar(255), {AUTHORIZATION_DATE} bigint, {CLIENT_ID} varchar(255) NOT NULL, " +
		"{CREATED_AT} bigint NOT NULL, {ID} varchar(255) NOT NULL, {LAST_ACCESSED} bigint, {SCOPE} varchar(255), {USER_KEY} varchar(255) NOT NULL, PRIMARY KEY ({ID}))"
	ddlOAuthRefresh = "CREATE TABLE {AO_FE1BC5_REFRESH_TOKEN} ({ACCESS_TOKEN_ID} varchar(255) NOT NULL, {AUTHORIZATION_CODE} varchar(255), {AUTHORIZATION_DATE} bigint, " +
		"{CLIENT_ID} varchar(255) NOT NULL, {CREATED_AT} bigint NOT NULL, {ID} varchar(255) NOT NULL, {REFRESH_COUNT} integer, {SCOPE} varchar(255), {USER_KEY} varchar(255) NOT NULL, PRIMARY KEY ({ID}))"
	ddlOAuthAuth = "CREATE TABLE {AO_FE1BC5_AUTHORIZATION} ({AUTHORIZATION_CODE} varchar(255) NOT NULL, {CLIENT_ID} varchar(255) NOT NULL, {CODE_CHALLENGE} varchar(255), " +
		"{CODE_CHALLENGE_METHOD} varchar(255), {CREATED_AT} bigint NOT NULL, {REDIRECT_URI} varchar(255), {SCOPE} varchar(255), {USER_KEY} varchar(255) NOT NULL, PRIMARY KEY ({AUTHORIZATION_CODE}))"
	ddlIdP = "CREATE TABLE {AO_ED669C_IDP_CONFIG} ({ID} integer NOT NULL, {NAME} varchar(255), {ENABLED} BOOL, {SSO_TYPE} varchar(255), {ISSUER} varchar(450) NOT NULL, " +
		"{SSO_URL} varchar(450), {CLIENT_ID} varchar(255), {CLIENT_SECRET} varchar(255), {ENABLE_REMEMBER_ME} BOOL, {LAST_UPDATED} TS, PRIMARY KEY ({ID}))"
)

// credentialDDL is the credential tables of m's product and the directory tables their owners
// resolve through (Confluence user_mapping, Jira's name-shaped cwd_membership, Bitbucket
// sta_service_user). Nil for products whose credentials are not modelled.
func (m model) credentialDDL(e reauth.Engine) []string {
	oauth := []string{ddlOAuthClient, ddlOAuthAccess, ddlOAuthRefresh, ddlOAuthAuth, ddlIdP}
	var q []string
	switch m.product.ID {
	case atlassian.Jira:
		q = append([]string{ddlPAT,
			"CREATE TABLE cwd_membership (id bigint NOT NULL, parent_name varchar(255), lower_parent_name varchar(255), child_name varchar(255), " +
				"lower_child_name varchar(255), membership_type varchar(60), group_type varchar(60), directory_id bigint, PRIMARY KEY (id))"}, oauth...)
	case atlassian.Confluence:
		q = append([]string{ddlPAT, "CREATE TABLE user_mapping (user_key varchar(255) NOT NULL, username varchar(255) NOT NULL, lower_username varchar(255), PRIMARY KEY (user_key))"}, oauth...)
	case atlassian.Bitbucket:
		q = append([]string{ddlHTTPToken, ddlHTTPPerm, ddlSSHKey,
			"CREATE TABLE sta_service_user (user_id integer NOT NULL, display_name varchar(255), active BOOL, name varchar(255), slug varchar(255), label varchar(128), PRIMARY KEY (user_id))"}, oauth...)
	default:
		return nil
	}
	out := make([]string, len(q))
	for i, s := range q {
		out[i] = aoDDL(e, s)
	}
	return out
}

// createCredentialTables creates them (not with an adopted dump: its own tables, if any, stay).
func (m model) createCredentialTables(ctx context.Context, db *sql.DB, e reauth.Engine) error {
	for _, q := range m.credentialDDL(e) {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create sandbox credential tables: %w", err)
		}
	}
	return nil
}
