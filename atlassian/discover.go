package atlassian

import (
	"errors"

	"github.com/reauth/reauth"
)

// Discovery is what a product's home directory says about it.
type Discovery struct {
	Product    Product
	Home       string
	ConfigFile string          // the file the database settings came from ("" when from env vars)
	Database   reauth.Database // password in a Secret; PasswordProblem set when it cannot be decoded
	// RememberMeCookie is the remember-me cookie name actually configured (seraph-config.xml
	// login.cookie.key when the install directory is known), else the catalog default.
	RememberMeCookie string
	SessionCookie    string
	Warnings         []string // things the operator should know (e.g. values taken from env vars)
}

// DiscoverOptions say where to look.
type DiscoverOptions struct {
	Product ProductID
	Home    string // the product's home directory (shared home for Bitbucket's shared/...)
	Install string // the product's install directory (for JNDI <Resource> and seraph-config.xml)
	// Getenv reads environment variables (ATL_JDBC_URL etc. of the official images). nil = none.
	Getenv func(string) string
}

// Discover reads the product's config file in Home (falling back to the official images' env
// vars) and returns its database. Errors name the file and say what to do.
func Discover(opts DiscoverOptions) (Discovery, error) {
	return Discovery{}, errors.New("discover: not implemented yet")
}

// ParseJDBCURL turns a JDBC URL into a database target (no user or password). jdbc:h2: gets a
// clear "embedded evaluation database: not supported" error. jdbc:sqlite:PATH is accepted for
// the sandbox's embedded database.
func ParseJDBCURL(url string) (reauth.Database, error) {
	return reauth.Database{}, errors.New("jdbc: not implemented yet")
}

// ResolvePassword applies the password override: REAUTH_DB_PASSWORD (getenv) wins; else the
// decoded config password; else, when the config password could not be decoded (PasswordProblem)
// or is absent, prompt (nil when there is no terminal) is asked; else a refusal (exit 4) that says
// to set REAUTH_DB_PASSWORD.
func ResolvePassword(db *reauth.Database, getenv func(string) string, prompt func(string) (string, error)) error {
	return errors.New("password: not implemented yet")
}
