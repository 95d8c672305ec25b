package sandbox

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

// writeHome writes the product's REAL config file into home, pointing at the sandbox database
// with a plain-text password, in the format the product itself writes (examples in
// ../shared/realcases/configs), so that `reauth discover --home` reads it like a real one.
func writeHome(home string, p atlassian.Product, t dbTarget, version string) (string, error) {
	path := filepath.Join(home, filepath.FromSlash(p.ConfigFile))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	var body string
	switch p.ConfigFormat {
	case "dbconfig":
		body = jiraDBConfig(t)
	case "hibernate-xml":
		body = hibernateConfig(p, t, version)
	case "properties":
		body = bitbucketProperties(t)
	case "fisheye-xml":
		body = fisheyeConfig(t)
	default:
		return "", fmt.Errorf("no sandbox config writer for %s (%s)", p.Name, p.ConfigFormat)
	}
	// 0600: the file holds the database password, as the real one does.
	return path, writeFile(path, []byte(body), 0o600)
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// driverInfo is what the product's config says about a JDBC driver, per engine.
func driverInfo(e reauth.Engine) (driver, jiraType, hibernateDialect, fisheyeType string) {
	switch e {
	case reauth.Postgres:
		return "org.postgresql.Driver", "postgres72", "org.hibernate.dialect.PostgreSQLDialect", "postgresql"
	case reauth.MariaDB:
		return "org.mariadb.jdbc.Driver", "mysql8", "org.hibernate.dialect.MySQLDialect", "mysql"
	}
	// Not a product-supported database: the sandbox's embedded one.
	return "org.sqlite.JDBC", "sqlite", "org.hibernate.community.dialect.SQLiteDialect", "sqlite"
}

func jiraDBConfig(t dbTarget) string {
	driver, typ, _, _ := driverInfo(t.Engine)
	schema := ""
	if t.Engine == reauth.Postgres {
		schema = "  <schema-name>public</schema-name>\n"
	}
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>

<jira-database-config>
  <name>defaultDS</name>
  <delegator-name>default</delegator-name>
  <database-type>%s</database-type>
%s  <jdbc-datasource>
    <url>%s</url>
    <driver-class>%s</driver-class>
    <username>%s</username>
    <password>%s</password>
    <pool-min-size>20</pool-min-size>
    <pool-max-size>20</pool-max-size>
    <pool-max-wait>30000</pool-max-wait>
    <validation-query>select 1</validation-query>
  </jdbc-datasource>
</jira-database-config>
`, typ, schema, esc(t.JDBCURL()), driver, esc(t.User), esc(t.Password))
}

// hibernateConfig is Confluence's confluence.cfg.xml or Bamboo's bamboo.cfg.xml.
func hibernateConfig(p atlassian.Product, t dbTarget, version string) string {
	driver, _, dialect, _ := driverInfo(t.Engine)
	root := "confluence-configuration"
	if p.ID == atlassian.Bamboo || p.ID == atlassian.Crowd {
		root = "application-configuration"
	}
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>

<%s>
  <setupStep>complete</setupStep>
  <setupType>custom</setupType>
  <buildNumber>%d</buildNumber>
  <properties>
    <property name="hibernate.connection.driver_class">%s</property>
    <property name="hibernate.connection.password">%s</property>
    <property name="hibernate.connection.url">%s</property>
    <property name="hibernate.connection.username">%s</property>
    <property name="hibernate.dialect">%s</property>
    <property name="hibernate.setup">true</property>
  </properties>
</%s>
`, root, versionBuild(atlassian.VersionParts(version)), driver, esc(t.Password), esc(t.JDBCURL()), esc(t.User), dialect, root)
}

// bitbucketProperties is shared/bitbucket.properties (Java properties escaping).
func bitbucketProperties(t dbTarget) string {
	driver, _, _, _ := driverInfo(t.Engine)
	return fmt.Sprintf("# Written by reauth sandbox, in the format Bitbucket's setup writes.\njdbc.driver=%s\njdbc.url=%s\njdbc.user=%s\njdbc.password=%s\n",
		propEscape(driver), propEscape(t.JDBCURL()), propEscape(t.User), propEscape(t.Password))
}

func propEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	s = r.Replace(s)
	if strings.HasPrefix(s, " ") {
		s = `\` + s // a leading space would be dropped by a properties reader
	}
	return s
}

// fisheyeConfig is Fisheye/Crucible's config.xml <database> element (format UNCONFIRMED).
func fisheyeConfig(t dbTarget) string {
	driver, _, dialect, typ := driverInfo(t.Engine)
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<config control-bind="127.0.0.1:8059" version="1.0">
  <database type="%s">
    <connection dialect="%s" driver="%s" jdbc-url="%s" username="%s" password="%s" minPoolSize="5" maxPoolSize="20"/>
  </database>
</config>
`, typ, dialect, driver, esc(t.JDBCURL()), esc(t.User), esc(t.Password))
}

// writeServerXML writes the node's "install" conf/server.xml, shaped like Atlassian's shipped one,
// with session persistence off (<Manager pathname=""/>) or on (pathname="SESSIONS.ser").
func writeServerXML(install string, p atlassian.Product, port int, persistence bool) error {
	if err := os.MkdirAll(filepath.Join(install, "conf"), 0o755); err != nil {
		return err
	}
	manager := ""
	if persistence {
		manager = "SESSIONS.ser"
	}
	body := fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<!-- reauth sandbox node: Tomcat-shaped configuration of a simulated %s node. -->
<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector port="%d" address="127.0.0.1" protocol="HTTP/1.1" maxThreads="150" connectionTimeout="20000"/>
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="true" autoDeploy="true">
        <Context path="" docBase="${catalina.home}/atlassian-%s" reloadable="false" useHttpOnly="true">
          <Resource name="UserTransaction" auth="Container" type="javax.transaction.UserTransaction" factory="org.objectweb.jotm.UserTransactionFactory" jotm.timeout="60"/>
          <Manager pathname="%s"/>
        </Context>
      </Host>
    </Engine>
  </Service>
</Server>
`, p.Name, port, p.ID, manager)
	return writeFile(filepath.Join(install, "conf", "server.xml"), []byte(body), 0o644)
}
