package atlassian

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/reauth/reauth/internal/boundedfile"
)

// dbSettings is what one config file says about the database, before the URL is parsed and the
// password decoded.
type dbSettings struct {
	URL         string
	User        string
	Password    string
	HasPassword bool
	CipherClass string // password cipher / decrypter class, "" for plain text
	DBType      string // Jira <database-type>, hibernate.dialect, Fisheye type: a hint only
	Schema      string // Jira <schema-name>
	JNDI        string // JNDI datasource name: the URL is then in Tomcat's config
	Tolerant    bool   // the XML was not well-formed and was read tolerantly
}

// empty reports whether the file had no database settings at all.
func (s dbSettings) empty() bool { return s.URL == "" && s.JNDI == "" }

// readDBConfig reads Jira's dbconfig.xml.
func readDBConfig(data []byte) (dbSettings, error) {
	root, tolerant, err := parseXMLTolerant(data)
	if err != nil {
		return dbSettings{}, err
	}
	s := dbSettings{Tolerant: tolerant}
	s.DBType, _ = root.child("database-type")
	s.Schema, _ = root.child("schema-name")
	if ds := root.find("jdbc-datasource"); ds != nil {
		s.URL, _ = ds.child("url")
		s.User, _ = ds.child("username")
		s.Password, s.HasPassword = ds.child("password")
	}
	if j := root.find("jndi-datasource"); j != nil && s.URL == "" {
		s.JNDI, _ = j.child("jndi-name")
	}
	if c := root.find("atlassian-password-cipher-provider"); c != nil {
		s.CipherClass = strings.TrimSpace(c.Text)
	}
	return s, nil
}

// readHibernateXML reads Confluence's confluence.cfg.xml, Bamboo's bamboo.cfg.xml and Crowd's
// crowd.cfg.xml: <property name="hibernate.connection.url">…</property> and friends.
func readHibernateXML(data []byte) (dbSettings, error) {
	root, tolerant, err := parseXMLTolerant(data)
	if err != nil {
		return dbSettings{}, err
	}
	s := dbSettings{Tolerant: tolerant}
	for _, p := range root.findAll("property", nil) {
		name, _ := p.attr("name")
		val := strings.TrimSpace(p.Text)
		switch strings.TrimSpace(name) {
		case "hibernate.connection.url":
			s.URL = val
		case "hibernate.connection.username":
			s.User = val
		case "hibernate.connection.password":
			s.Password, s.HasPassword = val, true
		case "hibernate.dialect":
			s.DBType = val
		case "hibernate.connection.datasource":
			s.JNDI = val
		case "jdbc.password.decrypter.classname":
			s.CipherClass = val
		}
	}
	if s.URL != "" {
		s.JNDI = ""
	}
	return s, nil
}

// readPropertiesConfig reads Bitbucket's shared/bitbucket.properties.
func readPropertiesConfig(data []byte) (dbSettings, error) {
	props, err := ParseProperties(data)
	if err != nil {
		return dbSettings{}, err
	}
	s := dbSettings{URL: strings.TrimSpace(props["jdbc.url"]), User: props["jdbc.user"], DBType: props["jdbc.driver"]}
	s.Password, s.HasPassword = props["jdbc.password"]
	s.CipherClass = strings.TrimSpace(props["jdbc.password.decrypter.classname"])
	if s.CipherClass == "" {
		s.CipherClass = strings.TrimSpace(props["encrypted-property.cipher.classname"])
	}
	return s, nil
}

// readFisheyeXML reads Fisheye/Crucible's config.xml tolerantly (its format is UNCONFIRMED):
// the first <database> element, with the JDBC URL, user and password in attributes or child
// elements at any depth below it.
func readFisheyeXML(data []byte) (dbSettings, error) {
	root, tolerant, err := parseXMLTolerant(data)
	if err != nil {
		return dbSettings{}, err
	}
	s := dbSettings{Tolerant: tolerant}
	db := root.find("database")
	if db == nil {
		return s, nil
	}
	s.DBType, _ = db.attr("type")
	s.URL = lookupDeep(db, "jdbcurl", "jdbc-url", "jdbc_url", "url", "connection-url")
	s.User = lookupDeep(db, "username", "user", "user-name")
	s.Password = lookupDeep(db, "password")
	s.HasPassword = s.Password != "" || hasDeep(db, "password")
	if s.DBType == "" {
		s.DBType = lookupDeep(db, "dialect", "driver")
	}
	s.CipherClass = lookupDeep(db, "password-cipher", "cipher")
	return s, nil
}

// lookupDeep returns the first non-empty value of any of names, as an attribute or a child
// element's text, searching n and then its descendants breadth first.
func lookupDeep(n *node, names ...string) string {
	queue := []*node{n}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, name := range names {
			if v, ok := cur.attr(name); ok && strings.TrimSpace(v) != "" {
				return strings.TrimSpace(v)
			}
			if v, ok := cur.child(name); ok && v != "" {
				return v
			}
		}
		queue = append(queue, cur.Children...)
	}
	return ""
}

// hasDeep reports whether name appears as an attribute of n or an element below it (an empty
// password is still a password setting).
func hasDeep(n *node, name string) bool {
	if _, ok := n.attr(name); ok {
		return true
	}
	for _, c := range n.Children {
		if c.find(name) != nil {
			return true
		}
	}
	return false
}

// jndiResource finds the <Resource> for a JNDI name (java:comp/env/jdbc/JiraDS) in the install's
// conf/server.xml and conf/context.xml, following a <ResourceLink> (usually in context.xml) to a
// global resource (usually in server.xml's <GlobalNamingResources>). It returns the file the
// resource came from.
func jndiResource(install, jndiName string) (dbSettings, string, error) {
	name := strings.TrimPrefix(strings.TrimSpace(jndiName), "java:comp/env/")
	name = strings.TrimPrefix(name, "java:/comp/env/")
	type parsed struct {
		path     string
		root     *node
		tolerant bool
	}
	var files []parsed
	var tried []string
	for _, rel := range []string{"conf/server.xml", "conf/context.xml"} {
		path := filepath.Join(install, rel)
		data, err := readConfigFile(path)
		if err != nil {
			tried = append(tried, path+" ("+shortErr(err)+")")
			continue
		}
		root, tolerant, err := parseXMLTolerant(data)
		if err != nil {
			return dbSettings{}, path, fmt.Errorf("%s: %w", path, err)
		}
		files = append(files, parsed{path, root, tolerant})
	}
	target := name
	for _, f := range files {
		for _, link := range f.root.findAll("ResourceLink", nil) {
			if n, _ := link.attr("name"); n == name {
				if g, ok := link.attr("global"); ok && g != "" {
					target = g
				}
			}
		}
	}
	for _, f := range files {
		for _, r := range f.root.findAll("Resource", nil) {
			if n, _ := r.attr("name"); n != target {
				continue
			}
			s := dbSettings{Tolerant: f.tolerant}
			s.URL = firstAttr(r, "url", "jdbcUrl", "dataSource.url", "URL")
			s.User = firstAttr(r, "username", "user", "dataSource.user", "dataSource.username")
			s.Password, s.HasPassword = r.attr("password")
			if !s.HasPassword {
				s.Password, s.HasPassword = r.attr("dataSource.password")
			}
			s.DBType, _ = r.attr("driverClassName")
			if s.URL == "" {
				return s, f.path, fmt.Errorf("%s: <Resource name=%q> has no url attribute", f.path, target)
			}
			return s, f.path, nil
		}
		tried = append(tried, f.path+" (no <Resource name=\""+target+"\">)")
	}
	return dbSettings{}, "", fmt.Errorf("JNDI datasource %s: not found in %s", jndiName, strings.Join(tried, ", "))
}

func firstAttr(n *node, names ...string) string {
	for _, name := range names {
		if v, ok := n.attr(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// seraphCookie reads login.cookie.key from a seraph-config.xml ("" when not set).
func seraphCookie(data []byte) (string, error) {
	root, _, err := parseXMLTolerant(data)
	if err != nil {
		return "", err
	}
	for _, p := range root.findAll("init-param", nil) {
		if name, _ := p.child("param-name"); name == "login.cookie.key" {
			v, _ := p.child("param-value")
			return v, nil
		}
	}
	return "", nil
}

// maxConfigSize bounds what reauth reads from a config file: real ones are a few KiB.
const maxConfigSize = 8 << 20

// readConfigFile reads a product config file: a regular file of at most maxConfigSize bytes.
func readConfigFile(path string) ([]byte, error) {
	return boundedfile.Read(path, maxConfigSize)
}

// notAConfig reports whether err says the path is no config file at all (a pipe, a device, a
// directory, a huge file), rather than one reauth may not read.
func notAConfig(err error) bool {
	return errors.Is(err, boundedfile.ErrNotRegular) || errors.Is(err, boundedfile.ErrDirectory) || errors.Is(err, boundedfile.ErrTooLarge)
}

// shortErr is the OS error without the path it repeats.
func shortErr(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
