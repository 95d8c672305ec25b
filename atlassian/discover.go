package atlassian

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

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
// vars) and returns its database. Errors name the file and say what to do: a bad product or a
// missing --home is a usage error (exit 2); a missing home directory, an unreadable or
// malformed config, or one without database settings is a refusal (exit 4).
func Discover(opts DiscoverOptions) (Discovery, error) {
	p, err := Lookup(string(opts.Product))
	if err != nil {
		return Discovery{}, reauth.Usage("pass --product "+strings.Join(Names(), "|"), "%v", err)
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	d := Discovery{Product: p, Home: opts.Home, SessionCookie: p.SessionCookie, RememberMeCookie: p.RememberMeCookie}
	if strings.TrimSpace(opts.Home) == "" {
		return d, reauth.Usage("pass --home DIR, the "+p.Name+" home directory that holds "+p.ConfigFile, "no home directory given")
	}
	if st, err := os.Stat(opts.Home); err != nil || !st.IsDir() {
		why := "not a directory"
		if err != nil {
			why = shortErr(err)
		}
		return d, reauth.Refused("pass --home DIR, the "+p.Name+" home directory that holds "+p.ConfigFile,
			"%s home directory %s: %s", p.Name, opts.Home, why)
	}
	s, path, err := readProductConfig(p, opts.Home)
	if err != nil {
		return d, err
	}
	envHint := envHint(p)
	if s.empty() {
		es, names, ok := fromEnv(p, getenv)
		if !ok {
			what := "not found in " + opts.Home + " (is --home the " + p.Name + " home directory?)"
			if path != "" {
				what = "has no database settings"
				if p.ID == Fisheye {
					what += " (no <database> element: Fisheye/Crucible then uses its built-in HSQLDB evaluation database, which reauth does not support)"
				}
			} else {
				path = filepath.Join(opts.Home, p.ConfigFile)
			}
			return d, reauth.Refused("pass --jdbc-url URL and --db-user USER"+envHint, "%s %s", path, what)
		}
		if path != "" {
			d.Warnings = append(d.Warnings, fmt.Sprintf("%s has no database settings: using the environment (%s), as the official Docker images do", path, names))
		} else {
			d.Warnings = append(d.Warnings, fmt.Sprintf("no %s in %s: using the environment (%s), as the official Docker images do", p.ConfigFile, opts.Home, names))
		}
		s, path = es, ""
	}
	d.ConfigFile = path
	if s.Tolerant {
		d.Warnings = append(d.Warnings, fmt.Sprintf("%s is not well-formed XML (a bare '&', as the official Docker images write "+
			"JDBC URLs): read it with each stray '&' taken literally; escaping it as &amp; fixes the file", path))
	}
	if s.URL == "" && s.JNDI != "" {
		if err := resolveJNDI(&d, &s, opts.Install, path); err != nil {
			return d, err
		}
	}
	db, notes, err := ParseJDBCURLNotes(s.URL)
	if err != nil {
		where := path
		if where == "" {
			where = "the environment"
		}
		return d, reauth.Refused("fix the URL in "+where+", or pass --jdbc-url URL --db-user USER", "%s: %v", where, err)
	}
	d.Warnings = append(d.Warnings, notes...)
	if s.User != "" {
		db.User = s.User
	}
	if s.HasPassword || db.PasswordSource == "" {
		db.Password, db.PasswordSource, db.PasswordProblem = decodePassword(s.CipherClass, s.Password, s.HasPassword, getenv)
		if path == "" && s.HasPassword {
			db.PasswordSource = "env " + p.EnvJDBCPrefix + "PASSWORD"
		}
	}
	if s.Schema != "" {
		if db.Schema != "" && !strings.EqualFold(db.Schema, s.Schema) {
			d.Warnings = append(d.Warnings, fmt.Sprintf("the URL's currentSchema is %s but the config's schema-name is %s: using %s", db.Schema, s.Schema, s.Schema))
		}
		db.Schema = s.Schema
	}
	if hint := engineHint(s.DBType); hint != "" && hint != db.Engine && !(hint == reauth.MySQL && db.Engine == reauth.MariaDB) {
		d.Warnings = append(d.Warnings, fmt.Sprintf("the config says the database is %s (%s) but the URL is %s: using the URL", hint, s.DBType, db.Engine))
	}
	d.Database = db
	if opts.Install != "" {
		readSeraph(&d, opts.Install)
	}
	return d, nil
}

// readProductConfig finds and reads the product's config file. path is "" when there is none.
func readProductConfig(p Product, home string) (dbSettings, string, error) {
	candidates := []string{filepath.Join(home, p.ConfigFile)}
	if strings.HasPrefix(p.ConfigFile, "shared/") { // --home may be the shared home itself
		candidates = append(candidates, filepath.Join(home, strings.TrimPrefix(p.ConfigFile, "shared/")))
	}
	for _, path := range candidates {
		data, err := readConfigFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			hint := "make " + path + " readable by this user (run reauth as the product's user or root)"
			if notAConfig(err) {
				hint = "check --home: " + path + " must be the product's config file, a regular file"
			}
			return dbSettings{}, path, reauth.Refused(hint, "read %s: %s", path, shortErr(err))
		}
		s, err := parseProductConfig(p, data)
		if err != nil {
			hint := "fix the file, or pass --jdbc-url URL and --db-user USER"
			var se *xmlSyntaxError
			if errors.As(err, &se) {
				hint = "fix the XML at that line (a literal '&' must be written &amp;), or pass --jdbc-url URL and --db-user USER"
			}
			return dbSettings{}, path, reauth.Refused(hint, "%s: %v", path, err)
		}
		return s, path, nil
	}
	return dbSettings{}, "", nil
}

func parseProductConfig(p Product, data []byte) (dbSettings, error) {
	switch p.ConfigFormat {
	case "dbconfig":
		return readDBConfig(data)
	case "hibernate-xml":
		return readHibernateXML(data)
	case "properties":
		return readPropertiesConfig(data)
	case "fisheye-xml":
		return readFisheyeXML(data)
	}
	return dbSettings{}, fmt.Errorf("no reader for config format %q", p.ConfigFormat)
}

// fromEnv reads the official images' variables. The Confluence Helm chart writes '&' as "&amp;"
// into ATL_JDBC_URL (for the XML the image renders), so that is undone here.
func fromEnv(p Product, getenv func(string) string) (dbSettings, string, bool) {
	if p.EnvJDBCPrefix == "" {
		return dbSettings{}, "", false
	}
	pre := p.EnvJDBCPrefix
	url := strings.TrimSpace(getenv(pre + "URL"))
	if url == "" {
		return dbSettings{}, "", false
	}
	s := dbSettings{URL: strings.ReplaceAll(url, "&amp;", "&"), User: getenv(pre + "USER"), Password: getenv(pre + "PASSWORD")}
	s.HasPassword = s.Password != ""
	names := []string{pre + "URL"}
	if s.User != "" {
		names = append(names, pre+"USER")
	}
	if s.HasPassword {
		names = append(names, pre+"PASSWORD")
	}
	if pre == "ATL_JDBC_" {
		s.DBType = getenv("ATL_DB_TYPE")
		if p.ID == Jira {
			s.Schema = getenv("ATL_DB_SCHEMA_NAME")
		}
	}
	return s, strings.Join(names, ", "), true
}

func envHint(p Product) string {
	if p.EnvJDBCPrefix == "" {
		return ""
	}
	pre := p.EnvJDBCPrefix
	return ", or set " + pre + "URL, " + pre + "USER and " + pre + "PASSWORD as the official Docker images do"
}

func resolveJNDI(d *Discovery, s *dbSettings, install, path string) error {
	if install == "" {
		return reauth.Refused("pass --install DIR (the "+d.Product.Name+" install directory, holding conf/server.xml), "+
			"or --jdbc-url URL and --db-user USER",
			"%s uses the JNDI datasource %s: its URL is in Tomcat's conf/server.xml or conf/context.xml", path, s.JNDI)
	}
	r, from, err := jndiResource(install, s.JNDI)
	if err != nil {
		return reauth.Refused("check --install (it must hold conf/server.xml), or pass --jdbc-url URL and --db-user USER", "%v", err)
	}
	d.Warnings = append(d.Warnings, fmt.Sprintf("%s names the JNDI datasource %s: its settings come from %s", path, s.JNDI, from))
	if r.Tolerant {
		d.Warnings = append(d.Warnings, from+" is not well-formed XML (a bare '&'): read it with each stray '&' taken literally")
	}
	s.URL, s.User, s.Password, s.HasPassword = r.URL, r.User, r.Password, r.HasPassword
	if s.DBType == "" {
		s.DBType = r.DBType
	}
	return nil
}

func readSeraph(d *Discovery, install string) {
	if d.Product.SeraphConfig == "" {
		return
	}
	path := filepath.Join(install, d.Product.SeraphConfig)
	data, err := readConfigFile(path)
	if err == nil {
		var name string
		if name, err = seraphCookie(data); err == nil && name != "" {
			if name != d.RememberMeCookie {
				d.Warnings = append(d.Warnings, fmt.Sprintf("%s sets the remember-me cookie to %s (default %s)", path, name, d.RememberMeCookie))
			}
			d.RememberMeCookie = name
			return
		}
	}
	why := "it does not set login.cookie.key"
	if err != nil {
		why = shortErr(err)
	}
	d.Warnings = append(d.Warnings, fmt.Sprintf("%s: %s; assuming the remember-me cookie is %s", path, why, d.RememberMeCookie))
}

// engineHint maps Jira's <database-type>, a hibernate dialect or a driver class to an engine, to
// cross-check the URL. "" when it says nothing recognisable.
func engineHint(t string) reauth.Engine {
	l := strings.ToLower(t)
	switch {
	case l == "":
		return ""
	case strings.Contains(l, "postgres"):
		return reauth.Postgres
	case strings.Contains(l, "mariadb"):
		return reauth.MariaDB
	case strings.Contains(l, "mysql"):
		return reauth.MySQL
	case strings.Contains(l, "mssql"), strings.Contains(l, "sqlserver"), strings.Contains(l, "jtds"):
		return reauth.SQLServer
	case strings.Contains(l, "oracle"):
		return reauth.Oracle
	}
	return ""
}

// ParseJDBCURL turns a JDBC URL into a database target (no user or password unless the URL
// itself carries them). jdbc:h2: gets a clear "embedded evaluation database: not supported"
// error. jdbc:sqlite:PATH is accepted for the sandbox's embedded database.
func ParseJDBCURL(url string) (reauth.Database, error) {
	db, _, err := ParseJDBCURLNotes(url)
	return db, err
}
