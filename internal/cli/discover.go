package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reauth/reauth/atlassian"
)

type discoverOptions struct {
	product, home, install string
	json                   bool
}

// discoverJSON is the --json contract of `reauth discover` (design.md): exactly these fields.
type discoverJSON struct {
	Product    string           `json:"product"`
	ConfigFile string           `json:"config_file"`
	Database   discoverJSONDB   `json:"database"`
	TokenTable string           `json:"token_table"`
	Cookies    discoverJSONCook `json:"cookies"`
}

type discoverJSONDB struct {
	Engine         string `json:"engine"`
	Host           string `json:"host"`
	Port           int    `json:"port"`
	Name           string `json:"name"`
	Schema         string `json:"schema"`
	User           string `json:"user"`
	Instance       string `json:"instance"`
	PasswordSource string `json:"password_source"`
}

type discoverJSONCook struct {
	Session    string `json:"session"`
	RememberMe string `json:"remember_me"`
}

// newDiscoverCmd is `reauth discover`: what reauth would act on, read from the product's home.
func newDiscoverCmd(streams IO) *cobra.Command {
	var o discoverOptions
	cmd := &cobra.Command{
		Use:   "discover --product P --home DIR [--install DIR] [--json]",
		Short: "Find a product's database, token table and cookies from its home directory",
		Long: `discover reads the product's own configuration in its home directory and prints what reauth would
act on: the database (engine, host, port, database, schema, user, and where the password comes from,
never the password itself), the remember-me token table, and the cookie names. It changes nothing.

Config files read (relative to --home):
  jira        dbconfig.xml (a JNDI datasource needs --install: its URL is in conf/server.xml)
  confluence  confluence.cfg.xml
  bitbucket   shared/bitbucket.properties (--home may also be the shared home itself)
  bamboo      bamboo.cfg.xml
  fisheye     config.xml (<database> element)
  crowd       shared/crowd.cfg.xml
When the file is missing or has no database settings, the variables the official Docker images
use are read instead: ATL_JDBC_URL, ATL_JDBC_USER, ATL_JDBC_PASSWORD, ATL_DB_TYPE (Bitbucket:
JDBC_URL, JDBC_USER, JDBC_PASSWORD).

Passwords: plain, Base64 and AES (Atlassian's "advanced encryption") are decoded. For
{ATL_SECURED} or an unknown cipher, other verbs take REAUTH_DB_PASSWORD or ask on a terminal.

With --install (the product's installation directory), the remember-me cookie name is read from
seraph-config.xml (login.cookie.key) instead of assuming the product's default.

Exit codes: 0 found; 2 bad flags or unknown product; 4 the home directory or its config cannot
be used (the message names the file and says what to do).`,
		Example: `  reauth discover --product jira --home /var/atlassian/application-data/jira
  reauth discover --product jira --home /var/atlassian/application-data/jira --install /opt/atlassian/jira
  reauth discover --product bitbucket --home /var/atlassian/application-data/bitbucket --json
  ATL_JDBC_URL=jdbc:postgresql://db:5432/confluence ATL_JDBC_USER=confluence \
    reauth discover --product confluence --home /var/atlassian/application-data/confluence`,
		Args: needArgs(0, "no positional arguments; use --product and --home"),
		RunE: func(c *cobra.Command, args []string) error {
			if o.product == "" || o.home == "" {
				return usageError{cmd: "discover", err: fmt.Errorf("--product and --home are required")}
			}
			if _, err := atlassian.Lookup(o.product); err != nil {
				return usageError{cmd: "discover", err: err}
			}
			return runDiscover(streams, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.product, "product", "", "product: "+strings.Join(atlassian.Names(), ", ")+" (required)")
	f.StringVar(&o.home, "home", "", "the product's home directory (required)")
	f.StringVar(&o.install, "install", "", "the product's install directory (JNDI datasources, seraph-config.xml cookie name)")
	f.BoolVar(&o.json, "json", false, "print one JSON object: product, config_file, database, token_table, cookies")
	return cmd
}

func runDiscover(streams IO, o discoverOptions) error {
	d, err := atlassian.Discover(atlassian.DiscoverOptions{Product: atlassian.ProductID(strings.ToLower(o.product)),
		Home: o.home, Install: o.install, Getenv: streams.getenv})
	if err != nil {
		return err
	}
	for _, w := range d.Warnings {
		fmt.Fprintf(streams.Err, "warning: %s\n", w)
	}
	if o.json {
		db := d.Database
		return writeJSON(streams.Out, discoverJSON{
			Product: string(d.Product.ID), ConfigFile: d.ConfigFile, TokenTable: d.Product.Table.Name,
			Database: discoverJSONDB{Engine: string(db.Engine), Host: db.Host, Port: db.Port, Name: db.Name,
				Schema: db.Schema, User: db.User, Instance: db.Instance, PasswordSource: db.PasswordSource},
			Cookies: discoverJSONCook{Session: d.SessionCookie, RememberMe: d.RememberMeCookie},
		})
	}
	printDiscovery(streams.Out, d)
	return nil
}

func printDiscovery(w io.Writer, d atlassian.Discovery) {
	db := d.Database
	from := d.ConfigFile
	if from == "" {
		from = "(environment variables)"
	}
	fmt.Fprintf(w, "product:      %s\n", d.Product.Name)
	fmt.Fprintf(w, "config file:  %s\n", from)
	fmt.Fprintf(w, "database:     %s\n", db.String())
	if db.OracleDescriptor != "" {
		fmt.Fprintf(w, "descriptor:   %s\n", db.OracleDescriptor)
	}
	schema := db.Schema
	if schema == "" {
		schema = "(the user's default)"
	}
	fmt.Fprintf(w, "schema:       %s\n", schema)
	switch {
	case db.PasswordProblem != "":
		fmt.Fprintf(w, "password:     not usable from the config: %s\n", db.PasswordProblem)
	case db.PasswordSource == "none" || db.PasswordSource == "":
		fmt.Fprintf(w, "password:     none configured (set REAUTH_DB_PASSWORD, or reauth asks on a terminal)\n")
	default:
		fmt.Fprintf(w, "password:     from %s (REAUTH_DB_PASSWORD overrides it)\n", db.PasswordSource)
	}
	table := d.Product.Table.Name
	if table == "" {
		table = fmt.Sprintf("found at run time: the table whose name contains %q (UNCONFIRMED; confirm with --table)", d.Product.Table.NameContains)
	} else if !d.Product.Table.Confirmed {
		table += " (UNCONFIRMED shape: checked against the database before any change)"
	}
	fmt.Fprintf(w, "token table:  %s\n", table)
	fmt.Fprintf(w, "cookies:      session %s, remember-me %s\n", d.SessionCookie, d.RememberMeCookie)
}
