package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/reauth/reauth/internal/termsafe"
	"github.com/reauth/reauth/sqlstore"
)

type inspectOptions struct {
	target targetFlags
	top    int
	backup string
	json   bool
}

// newInspectCmd is `reauth inspect TARGET`: counts only, changes nothing.
func newInspectCmd(streams IO) *cobra.Command {
	var o inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect TARGET [--top N] [--json]",
		Short: "Count remember-me tokens: total, users, oldest/newest, top users",
		Long: `inspect finds the product's remember-me token table and counts what is in it: how many tokens,
how many distinct users, the oldest and newest token, and the users with the most tokens. It only
reads; run it before a purge to see what a purge would touch.

Oldest/newest come from the table's time column: the creation time for Jira, Confluence (stored
as epoch milliseconds) and Bamboo (its table's shape is not documented: shown when it has a
"created" column); for Bitbucket it is the tokens' EXPIRY time (Bitbucket stores no creation
time). Users are shown by login name where the table stores a user key (Jira 8+,
through app_user) or a numeric id (Bitbucket, through stash_user).

` + targetHelp + `

Exit codes: 0 done; 1 failed (e.g. the database is unreachable); 2 bad flags; 4 the token table is
missing or not shaped as the product's.`,
		Example: `  # From the product's home directory (password from its dbconfig.xml):
  reauth inspect --product jira --home /var/atlassian/application-data/jira

  # Directly, with the password in the environment:
  REAUTH_DB_PASSWORD=… reauth inspect --product confluence \
    --jdbc-url jdbc:postgresql://db.example:5432/confluence --db-user confluence --top 20

  # A backup file's manifest (product, table, database, cut-off, filters, encrypted), no database
  # and no key needed:
  reauth inspect --backup ~/.local/state/reauth/backups/reauth-jira-20250131T180000Z.jsonl.gz

  # For scripts: one JSON object (product, table, total, users, oldest, newest, top)
  reauth inspect --product bitbucket --home /var/atlassian/application-data/bitbucket --json`,
		Args: needArgs(0, "no positional arguments; TARGET is given by flags"),
		RunE: func(c *cobra.Command, args []string) error {
			if o.backup != "" {
				return runInspectBackup(streams, o.backup, o.json)
			}
			if err := o.target.check("inspect"); err != nil {
				return err
			}
			if o.top < 0 {
				return usageError{cmd: "inspect", err: fmt.Errorf("--top must be 0 or more")}
			}
			return runInspect(c.Context(), streams, o)
		},
	}
	o.target.add(cmd.Flags())
	cmd.Flags().IntVar(&o.top, "top", 10, "list this many users with the most tokens")
	cmd.Flags().StringVar(&o.backup, "backup", "", "show this backup file's manifest instead (no database, no identity needed)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print one JSON object: product, table, total, users, oldest, newest, top")
	return cmd
}

func runInspect(ctx context.Context, streams IO, o inspectOptions) error {
	st, p, db, err := o.target.open(ctx, streams)
	if err != nil {
		return err
	}
	defer st.Close()
	in, err := st.Inspect(ctx, o.top)
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(streams.Out, in)
	}
	what := "remember-me tokens"
	if p.SSOCookie != "" && strings.EqualFold(p.Table.Name, in.Table) {
		what = "SSO sessions (" + p.SSOCookie + ")" // Crowd's cwd_token
	}
	fmt.Fprintf(streams.Out, "%s %s in %s (%s)\n", p.Name, what, in.Qualified, db.String())
	printInspection(streams.Out, in)
	return nil
}

func printInspection(w io.Writer, in sqlstore.Inspection) {
	fmt.Fprintf(w, "  tokens   %d\n  users    %d\n", in.Total, in.Users)
	if in.Kept != "" {
		fmt.Fprintf(w, "  kept     rows where %s (not users' sessions: no purge touches them, not counted above)\n", in.Kept)
	}
	label := "created"
	if in.TimeIsExpiry {
		label = "expiry"
	}
	for _, e := range []struct {
		name string
		t    *time.Time
		text string
	}{{"oldest", in.Oldest, in.OldestText}, {"newest", in.Newest, in.NewestText}} {
		switch {
		case e.t != nil:
			fmt.Fprintf(w, "  %s   %s (%s)\n", e.name, e.t.UTC().Format(time.RFC3339), label)
		case e.text != "":
			fmt.Fprintf(w, "  %s   %s (%s)\n", e.name, e.text, label)
		}
	}
	if len(in.Top) > 0 {
		fmt.Fprintln(w, "  top users:")
		for _, u := range in.Top {
			name := termsafe.Field(u.User)
			if u.Key != "" {
				name += " (stored as " + termsafe.Field(u.Key) + ")"
			}
			fmt.Fprintf(w, "    %8d  %s\n", u.Count, name)
		}
	}
}
