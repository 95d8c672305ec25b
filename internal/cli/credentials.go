package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/termsafe"
	"github.com/reauth/reauth/runbook"
	"github.com/reauth/reauth/sqlstore"
)

type credentialsOptions struct {
	target  targetFlags
	configs []string
	since   string
	json    bool
	// patTable: TARGET's --pat-table (the inventory's pat_table with --config).
	patTable string
}

// credentialsOutput is `reauth credentials --json`: one object, a report per product.
type credentialsOutput struct {
	Since    *time.Time                  `json:"since,omitempty"`
	Products []sqlstore.CredentialReport `json:"products"`
}

// newCredentialsCmd is `reauth credentials`: find and flag every credential that outlives a
// browser session. It only reads.
func newCredentialsCmd(streams IO) *cobra.Command {
	var o credentialsOptions
	cmd := &cobra.Command{
		Use:   "credentials (--config FILE | TARGET) [--since T] [--json]",
		Short: "List personal access tokens, HTTP access tokens, OAuth 2.0 tokens and SSH keys, flag the suspicious, read the SSO setup",
		Long: `credentials lists every credential that logs a user in without a password and outlives every
browser session: personal access tokens (Jira, Confluence, Bamboo), Bitbucket HTTP access tokens
(personal, project and repository), OAuth 2.0 provider tokens (access, refresh, authorization
codes) and Bitbucket SSH keys, with owner, name, created, last used and expiry. It flags
  created-in-window   created at or after --since (the usual sign of an intruder)
  used-in-window      used at or after --since
  never-expires       no expiry
  admin-owner         the owner is an administrator (where reauth can tell)
  service-user        the owner is a project/repository token's system-generated user
It also reads the SSO for Atlassian Data Center configuration: SSO on or off, SAML or OIDC, the
issuer and the identity provider it looks like, remember-me for SSO logins, the call that ends
the IdP's sessions, and an ALARM when the configuration changed inside the window.

It only reads, and never a secret: hashes, key material and client secrets are not selected.

` + targetHelp + `
Or --config reauth.yaml: every product of the inventory.

--since T: RFC 3339 (2025-01-31T18:00:00Z), a UTC date (2025-01-31), or a duration before now (48h).

Exit codes: 0 done; 1 failed (e.g. the database is unreachable); 2 bad flags; 4 a credential table
is not shaped as the product's.`,
		Example: `  reauth credentials --product jira --home /var/atlassian/application-data/jira --since 2025-01-31T18:00:00Z
  reauth credentials --config reauth.yaml --since 72h --json`,
		Args: needArgs(0, "no positional arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			since, err := parseSince(o.since, streams.now())
			if err != nil {
				return usageError{cmd: "credentials", err: err}
			}
			if len(o.configs) > 0 {
				if o.target.product != "" || o.target.home != "" || o.target.jdbcURL != "" || o.patTable != "" {
					return usageError{cmd: "credentials", err: fmt.Errorf("give --config or --product with --home/--jdbc-url, not both (with --config, pat_table goes in the inventory)")}
				}
				return runCredentialsInventory(c.Context(), streams, o, since)
			}
			if err := o.target.check("credentials"); err != nil {
				return err
			}
			return runCredentials(c.Context(), streams, o, since)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.target.product, "product", "", "product: "+strings.Join(atlassian.Names(), ", "))
	f.StringVar(&o.target.home, "home", "", "the product's home directory (database settings are read from its config)")
	f.StringVar(&o.target.install, "install", "", "the product's install directory (for a JNDI datasource; with --home)")
	f.StringVar(&o.target.jdbcURL, "jdbc-url", "", "the database as a JDBC URL, instead of --home")
	f.StringVar(&o.target.dbUser, "db-user", "", "database user (with --jdbc-url)")
	addConnectTimeout(f, &o.target.connectTimeout)
	f.StringArrayVar(&o.configs, "config", nil, "the inventory file (reauth.yaml): every product in it")
	f.StringVar(&o.patTable, "pat-table", "", "the personal access token table, where the product's is UNCONFIRMED (Bamboo)")
	f.StringVar(&o.since, "since", "", "the exposure window's start: flag what was created or used since then")
	f.BoolVar(&o.json, "json", false, "print one JSON object: since, products[] (counts, tables, credentials, sso)")
	return cmd
}

// parseSince reads --since: a time as --before takes it, or a duration before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("--since %q: a duration must be positive (e.g. 48h)", s)
		}
		return now.Add(-d).UTC(), nil
	}
	t, err := parseTime(s)
	if err != nil {
		return t, fmt.Errorf("--since %q: use RFC 3339 (2025-01-31T18:00:00Z), a UTC date (2025-01-31) or a duration (48h)", s)
	}
	if t.After(now) {
		return t, fmt.Errorf("--since %s is in the future", t.UTC().Format(time.RFC3339))
	}
	return t.UTC(), nil
}

func runCredentials(ctx context.Context, streams IO, o credentialsOptions, since time.Time) error {
	p, db, err := o.target.database(streams)
	if err != nil {
		return err
	}
	rep, err := readCredentials(ctx, p, db, o.target.connectTimeout, since, o.patTable)
	if err != nil {
		return err
	}
	return printCredentials(streams, o.json, since, []sqlstore.CredentialReport{rep}, []reauth.Database{db})
}

func runCredentialsInventory(ctx context.Context, streams IO, o credentialsOptions, since time.Time) error {
	if err := checkConnectTimeout("credentials", o.target.connectTimeout); err != nil {
		return err
	}
	inv, err := loadInventory(o.configs)
	if err != nil {
		return err
	}
	var reps []sqlstore.CredentialReport
	var dbs []reauth.Database
	var prompt func(string) (string, error)
	if streams.InTTY {
		prompt = streams.ReadPassword
	}
	for i := range inv.Products {
		ip := &inv.Products[i]
		p, err := atlassian.Lookup(string(ip.ID))
		if err != nil {
			return err
		}
		db, err := runbook.ProductDatabase(ctx, inv, ip, streams.getenv)
		if err == nil && db.Engine != reauth.SQLite {
			err = atlassian.ResolvePassword(&db, streams.getenv, prompt)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", ip.Name, err)
		}
		rep, err := readCredentials(ctx, p, db, o.target.connectTimeout, since, ip.PATTable)
		if err != nil {
			return fmt.Errorf("%s: %w", ip.Name, err)
		}
		reps, dbs = append(reps, rep), append(dbs, db)
	}
	return printCredentials(streams, o.json, since, reps, dbs)
}

func readCredentials(ctx context.Context, p atlassian.Product, db reauth.Database, timeout time.Duration, since time.Time, patTable string) (sqlstore.CredentialReport, error) {
	r, err := sqlstore.OpenCredentials(ctx, db, sqlstore.Options{ConnectTimeout: timeout})
	if err != nil {
		return sqlstore.CredentialReport{}, err
	}
	defer r.Close()
	r.SetPATTable(patTable)
	return r.ReadCredentials(ctx, p, since)
}

func printCredentials(streams IO, asJSON bool, since time.Time, reps []sqlstore.CredentialReport, dbs []reauth.Database) error {
	if asJSON {
		out := credentialsOutput{Products: reps}
		if !since.IsZero() {
			out.Since = &since
		}
		return writeJSON(streams.Out, out)
	}
	for i, rep := range reps {
		p, _ := atlassian.Lookup(rep.Product)
		fmt.Fprintf(streams.Out, "%s credentials in %s", p.Name, dbs[i].String())
		if rep.Since != nil {
			fmt.Fprintf(streams.Out, ", window since %s", rep.Since.Format(time.RFC3339))
		}
		fmt.Fprintln(streams.Out)
		PrintCredentialReport(streams.Out, rep)
	}
	return nil
}

// PrintCredentialReport writes one product's credentials as people read them: counts first,
// then a table, the tables not found, and the SSO configuration. Text from the database is
// made terminal-safe.
func PrintCredentialReport(w io.Writer, rep sqlstore.CredentialReport) {
	if len(rep.Counts) == 0 {
		fmt.Fprintln(w, "  counts   none found")
	}
	for _, k := range rep.Counts {
		fmt.Fprintf(w, "  %-16s %d", k.Kind, k.Total)
		var parts []string
		for _, x := range []struct {
			n    int
			what string
		}{{k.CreatedInWindow, "created in the window"}, {k.UsedInWindow, "used in the window"}, {k.NeverExpires, "never expire"}, {k.AdminOwned, "held by administrators"}} {
			if x.n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", x.n, x.what))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, " (%s)", strings.Join(parts, ", "))
		}
		fmt.Fprintln(w)
	}
	if len(rep.Credentials) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  KIND\tID\tOWNER\tNAME\tCREATED\tLAST USED\tEXPIRES\tFLAGS")
		for _, c := range rep.Credentials {
			exp := credDay(c.Expires)
			if c.NeverExpires {
				exp = "never"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Kind, orDash(termsafe.Text(c.ID)), termsafe.Text(c.Owner), orDash(termsafe.Text(c.Name)),
				credStamp(c.Created), credStamp(c.LastUsed), exp, orDash(strings.Join(c.Flags, ",")))
		}
		tw.Flush()
	}
	for _, t := range rep.Tables {
		if !t.Found {
			fmt.Fprintf(w, "  absent   %s (%s): %s\n", orDash(t.Table), t.Kind, orDash(t.Note))
		}
	}
	if rep.AdminsNote != "" {
		fmt.Fprintf(w, "  admins   %s\n", rep.AdminsNote)
	}
	printSSO(w, rep.SSO)
}

func printSSO(w io.Writer, s sqlstore.SSOStatus) {
	switch {
	case !s.Found:
		fmt.Fprintln(w, "  sso      no SSO for Atlassian Data Center configuration (AO_ED669C_IDP_CONFIG absent)")
		return
	case !s.On:
		fmt.Fprintf(w, "  sso      off (%d identity provider(s) configured, none enabled)\n", len(s.IdPs))
	}
	for _, c := range s.IdPs {
		state := "disabled"
		if c.Enabled {
			state = "ENABLED"
		}
		rm := "off"
		if c.RememberMe {
			rm = "on (SSO logins get remember-me cookies too)"
		}
		fmt.Fprintf(w, "  sso      %s %s %q, issuer %s (looks like %s); remember-me %s\n", state, termsafe.Text(c.Type), termsafe.Text(c.Name),
			termsafe.Text(c.Issuer), c.IdP.Family, rm)
		if c.Enabled {
			fmt.Fprintf(w, "           users with a live session at the IdP log straight back in: end them there: %s\n", termsafe.Text(c.IdP.EndAll))
		}
	}
	if s.Alarm != "" {
		fmt.Fprintf(w, "  ALARM    %s\n", termsafe.Text(s.Alarm))
	}
}

func credStamp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func credDay(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
