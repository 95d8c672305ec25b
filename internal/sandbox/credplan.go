package sandbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

// intruderAge is how long before `sandbox up` the simulated intruder created its credentials;
// windowAge is the exposure window's start (SeededCredentials.WindowStart). Everything else is
// days older.
const (
	intruderAge = 10 * time.Minute
	windowAge   = time.Hour
)

// confluenceUserKey is the sandbox's Confluence user key of user id (Confluence keys are 32 hex
// digits, mapped to names by user_mapping).
func confluenceUserKey(id int) string { return fmt.Sprintf("8a7f808a%024x", id) }

// credentialRef is what a credential row stores for a user: Jira its user key (app_user),
// Confluence its user_mapping key, Bitbucket its id.
func (m model) credentialRef(u seedUser) string {
	if m.product.ID == atlassian.Confluence {
		return confluenceUserKey(u.ID)
	}
	return u.Ref
}

// seedCredentials writes the directory rows the credentials resolve through, and the seeded
// credentials: old ones of ordinary users and admin, and, inside the window, the intruder's
// (a never-expiring PAT or token for admin, an OAuth approval, an SSH key on Bitbucket), then
// DIR/credentials.json. ssoIssuer, when set, is an enabled SSO configuration's issuer.
func (m model) seedCredentials(ctx context.Context, db *sql.DB, e reauth.Engine, dir string, users []seedUser, ssoIssuer string) error {
	if m.credentialDDL(e) == nil {
		return nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("seed credentials: %w", err)
	}
	defer tx.Rollback()
	now := time.Now().UTC().Truncate(time.Second)
	s := &credSeeder{ctx: ctx, tx: tx, e: e, dir: dir, now: now, out: SeededCredentials{WindowStart: now.Add(-windowAge)}}
	if err := m.seedDirectory(s, users); err != nil {
		return err
	}
	if ssoIssuer != "" {
		if err := s.insert("AO_ED669C_IDP_CONFIG", []string{"ID", "NAME", "ENABLED", "SSO_TYPE", "ISSUER", "CLIENT_ID", "CLIENT_SECRET", "ENABLE_REMEMBER_ME", "LAST_UPDATED"},
			1, "Corporate SSO", true, "OIDC", ssoIssuer, "atlassian", randomHex(16), true, now.AddDate(0, 0, -100)); err != nil {
			return err
		}
	}
	days := func(d int) time.Time { return now.AddDate(0, 0, -d) }
	intr := now.Add(-intruderAge)
	never := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	admin := users[0]
	var plan []func() error
	switch m.product.ID {
	case atlassian.Jira, atlassian.Confluence:
		used := days(2)
		plan = append(plan,
			func() error {
				return s.pat(admin.Name, m.credentialRef(admin), "monitoring", days(90), never, nil, false)
			},
			func() error { return s.pat(admin.Name, m.credentialRef(admin), "backup", intr, never, &now, true) })
		if len(users) > 1 {
			u := users[1]
			plan = append(plan,
				func() error {
					return s.pat(u.Name, m.credentialRef(u), "ci token", days(30), now.AddDate(0, 0, 60), &used, false)
				},
				func() error { return s.oauth(u.Name, m.credentialRef(u), "reporting-app", days(3), false) })
		}
		if len(users) > 2 {
			u := users[2]
			plan = append(plan, func() error { return s.pat(u.Name, m.credentialRef(u), "sync", intr, now.AddDate(1, 0, 0), nil, true) })
		}
		plan = append(plan, func() error { return s.oauth(admin.Name, m.credentialRef(admin), "exfil-client", intr, true) })
	case atlassian.Bitbucket:
		plan = append(plan,
			func() error { return s.httpToken(admin.Name, admin.ID, "deploy", days(60), 90, false) },
			func() error { return s.httpToken(admin.Name, admin.ID, "backup", intr, nil, true) },
			func() error { return s.httpToken(serviceUserName, serviceUserID, "PROJ build", days(20), nil, false) },
			func() error { return s.sshKey(admin.Name, admin.ID, "intruder@vps", intr, true) },
			func() error { return s.oauth(admin.Name, admin.Ref, "exfil-client", intr, true) })
		if len(users) > 1 {
			u := users[1]
			plan = append(plan,
				func() error { return s.httpToken(u.Name, u.ID, "ci token", days(30), 365, false) },
				func() error { return s.sshKey(u.Name, u.ID, u.Name+"@laptop", days(40), false) },
				func() error { return s.sshKey(u.Name, u.ID, u.Name+"@old-desktop", time.Time{}, false) }, // before 8.7: no date
				func() error { return s.oauth(u.Name, u.Ref, "reporting-app", days(3), false) })
		}
	}
	for _, f := range plan {
		if err := f(); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("seed credentials: %w", err)
	}
	b, err := json.MarshalIndent(s.out, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(credentialsFile(dir), b, 0o600)
}

// The Bitbucket project token's system-generated user (sta_service_user), not a person.
const (
	serviceUserID   = 90001
	serviceUserName = "bitbucket-project-proj-service-user"
)

// seedDirectory writes what owners resolve through: Confluence's user_mapping, Jira's admin
// group membership, Bitbucket's service user; and an OAuth client.
func (m model) seedDirectory(s *credSeeder, users []seedUser) error {
	switch m.product.ID {
	case atlassian.Confluence:
		for _, u := range users {
			if err := s.insert("user_mapping", []string{"user_key", "username", "lower_username"}, confluenceUserKey(u.ID), u.Name, strings.ToLower(u.Name)); err != nil {
				return err
			}
		}
	case atlassian.Jira:
		if err := s.insert("cwd_membership", []string{"id", "parent_name", "lower_parent_name", "child_name", "lower_child_name", "membership_type", "group_type", "directory_id"},
			1, "jira-administrators", "jira-administrators", users[0].Name, strings.ToLower(users[0].Name), "GROUP_USER", "GROUP", 1); err != nil {
			return err
		}
	case atlassian.Bitbucket:
		if err := s.insert("stash_user", []string{"id", "name", "slug"}, serviceUserID, serviceUserName, serviceUserName); err != nil {
			return err
		}
		if err := s.insert("sta_service_user", []string{"user_id", "display_name", "active", "name", "slug", "label"},
			serviceUserID, "Project PROJ token", true, serviceUserName, serviceUserName, "access-token"); err != nil {
			return err
		}
	}
	return s.insert("AO_FE1BC5_CLIENT", []string{"CLIENT_ID", "CLIENT_SECRET", "ID", "NAME", "SCOPE", "USER_KEY"},
		"reporting-app", randomHex(16), "1", "Reporting app", "READ", m.credentialRef(users[0]))
}
