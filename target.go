package reauth

import (
	"fmt"
	"strconv"
	"strings"
)

// Engine is a database engine. The string values are part of the --json contract.
type Engine string

const (
	Postgres  Engine = "postgres"
	MySQL     Engine = "mysql"
	MariaDB   Engine = "mariadb"
	SQLServer Engine = "sqlserver"
	Oracle    Engine = "oracle"
	SQLite    Engine = "sqlite" // the sandbox's embedded database only
)

// Database is where a product keeps its tables, as discovered from its home directory, an
// inventory or flags. It carries no secret in printable form: Password is a Secret.
type Database struct {
	Engine   Engine `json:"engine"`
	Host     string `json:"host,omitempty"`
	Port     int    `json:"port,omitempty"`
	Name     string `json:"name,omitempty"`     // database; Oracle service name or SID; SQLite file path
	Schema   string `json:"schema,omitempty"`   // Jira <schema-name>, PostgreSQL currentSchema, SQL Server dbo
	User     string `json:"user,omitempty"`     //
	Instance string `json:"instance,omitempty"` // SQL Server named instance
	// OracleSID is true when Name is an Oracle SID (jdbc:oracle:thin:@h:1521:SID) rather than a service.
	OracleSID bool `json:"oracle_sid,omitempty"`
	// OracleDescriptor is a full TNS descriptor when the URL gave one (host/port/name then come from it).
	OracleDescriptor string `json:"oracle_descriptor,omitempty"`
	// Params are driver-relevant URL properties that were kept (sslmode, useSSL, encrypt, ...).
	Params map[string]string `json:"params,omitempty"`
	// Socket is a unix socket path (MySQL/MariaDB, PostgreSQL) when the target uses one.
	Socket string `json:"socket,omitempty"`

	Password       Secret `json:"-"`
	PasswordSource string `json:"password_source,omitempty"` // "config", "config (base64)", "env REAUTH_DB_PASSWORD", "prompt", "none"
	// PasswordProblem is set when the config holds a password reauth cannot decode (e.g. {ATL_SECURED}
	// or an unknown cipher); it says why, and the caller asks for the override.
	PasswordProblem string `json:"-"`
}

// Addr is host:port (or the socket) for messages. It never contains a secret.
func (d Database) Addr() string {
	if d.Socket != "" {
		return d.Socket
	}
	if d.Port == 0 {
		return d.Host
	}
	return d.Host + ":" + strconv.Itoa(d.Port)
}

// Server names the database server the way two targets on one server agree on it: the engine
// family (MySQL and MariaDB speak one protocol), the host as written, lower-cased, with every
// loopback spelling as one, and the port (or socket, or SQL Server instance). SQLite has no
// server: "" (each file is its own).
func (d Database) Server() string {
	if d.Engine == SQLite || d.Engine == "" {
		return ""
	}
	family := d.Engine
	if family == MariaDB {
		family = MySQL
	}
	host := strings.ToLower(d.Host)
	switch host {
	case "localhost", "127.0.0.1", "::1", "[::1]":
		host = "loopback"
	}
	s := string(family) + "://" + host
	if d.Socket != "" {
		s = string(family) + "://" + d.Socket
	} else if d.Port != 0 {
		s += ":" + strconv.Itoa(d.Port)
	}
	if d.Instance != "" {
		s += `\` + strings.ToLower(d.Instance)
	}
	return s
}

// String describes the database for humans, without the password.
func (d Database) String() string {
	if d.Engine == SQLite {
		return "sqlite " + d.Name
	}
	s := fmt.Sprintf("%s %s", d.Engine, d.Addr())
	if d.Instance != "" {
		s += `\` + d.Instance
	}
	if d.Name != "" {
		s += "/" + d.Name
	}
	if d.Schema != "" {
		s += " schema " + d.Schema
	}
	if d.User != "" {
		s += " as " + d.User
	}
	return s
}
