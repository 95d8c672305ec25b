package sqlstore

import (
	"os"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/microsoft/go-mssqldb/msdsn"
	"github.com/sijms/go-ora/v2/configurations"

	"github.com/reauth/reauth"
)

const hardPW = `p@ss:w/rd?&=#%;{}\ "x`

func sec(s string) reauth.Secret { return reauth.NewSecret(s) }

// Every DSN is parsed back by its own driver's parser: what the driver will connect to is what
// the target says, passwords with URL-special characters included.
func TestDSNPostgres(t *testing.T) {
	cases := []struct {
		name string
		db   reauth.Database
		host string
		port uint16
		ssl  string
	}{
		{"host port db", reauth.Database{Engine: reauth.Postgres, Host: "db.example", Port: 5433, Name: "jira", User: "jira", Password: sec(hardPW)}, "db.example", 5433, ""},
		{"default port, currentSchema kept out of DSN", reauth.Database{Engine: reauth.Postgres, Host: "h", Name: "confluence", Schema: "conf", User: "u", Password: sec("pw")}, "h", 5432, ""},
		{"sslmode", reauth.Database{Engine: reauth.Postgres, Host: "h", Name: "d", User: "u", Params: map[string]string{"sslmode": "require"}}, "h", 5432, "require"},
		{"socket", reauth.Database{Engine: reauth.Postgres, Socket: "/run/postgresql", Port: 5432, Name: "d", User: "u"}, "/run/postgresql", 5432, ""},
		{"ipv6", reauth.Database{Engine: reauth.Postgres, Host: "::1", Port: 5432, Name: "d", User: "u"}, "::1", 5432, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			drv, dsn, err := DSN(c.db)
			if err != nil || drv != "pgx" {
				t.Fatalf("%s %v", drv, err)
			}
			cfg, err := pgx.ParseConfig(dsn)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Host != c.host || cfg.Port != c.port || cfg.Database != c.db.Name || cfg.User != c.db.User ||
				cfg.Password != c.db.Password.Reveal() || cfg.RuntimeParams["application_name"] != "reauth" {
				t.Fatalf("parsed %s:%d db %s user %s pw %q app %q", cfg.Host, cfg.Port, cfg.Database, cfg.User, cfg.Password, cfg.RuntimeParams["application_name"])
			}
			if c.ssl == "require" && cfg.TLSConfig == nil {
				t.Fatal("sslmode=require lost")
			}
		})
	}
}

func TestDSNMySQL(t *testing.T) {
	cases := []struct {
		name      string
		db        reauth.Database
		net, addr string
		tls       string
	}{
		{"mysql", reauth.Database{Engine: reauth.MySQL, Host: "h", Port: 3306, Name: "jiradb", User: "jira", Password: sec(hardPW)}, "tcp", "h:3306", ""},
		{"mariadb default port", reauth.Database{Engine: reauth.MariaDB, Host: "h", Name: "conf", User: "u"}, "tcp", "h:3306", ""},
		{"address form host", reauth.Database{Engine: reauth.MySQL, Host: "10.0.0.5", Port: 3307, Name: "d", User: "u"}, "tcp", "10.0.0.5:3307", ""},
		{"useSSL", reauth.Database{Engine: reauth.MySQL, Host: "h", Name: "d", User: "u", Params: map[string]string{"useSSL": "true"}}, "tcp", "h:3306", "true"},
		{"socket", reauth.Database{Engine: reauth.MariaDB, Socket: "/run/mysqld/mysqld.sock", Name: "d", User: "u"}, "unix", "/run/mysqld/mysqld.sock", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			drv, dsn, err := DSN(c.db)
			if err != nil || drv != "mysql" {
				t.Fatalf("%s %v", drv, err)
			}
			cfg, err := mysql.ParseDSN(dsn)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Net != c.net || cfg.Addr != c.addr || cfg.DBName != c.db.Name || cfg.User != c.db.User ||
				cfg.Passwd != c.db.Password.Reveal() || !cfg.ParseTime || cfg.Loc.String() != "UTC" {
				t.Fatalf("parsed %+v", cfg)
			}
			if c.tls != "" && !strings.Contains(dsn, "tls="+c.tls) {
				t.Fatalf("tls lost: %s", strings.ReplaceAll(dsn, c.db.Password.Reveal(), "***"))
			}
		})
	}
}

// MySQL DATETIME values are read and written in the URL's serverTimezone (UTC without one).
func TestDSNMySQLServerTimezone(t *testing.T) {
	db := reauth.Database{Engine: reauth.MySQL, Host: "h", Name: "d", User: "u", Params: map[string]string{"serverTimezone": "Europe/Berlin"}}
	_, dsn, err := DSN(db)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := mysql.ParseDSN(dsn)
	if cfg.Loc.String() != "Europe/Berlin" {
		t.Fatalf("loc %v", cfg.Loc)
	}
	db.Params["serverTimezone"] = "Mars/Olympus"
	if _, _, err := DSN(db); reauth.CodeOf(err) != reauth.ExitUsage {
		t.Fatalf("bad zone: %v", err)
	}
}

func TestDSNSQLServer(t *testing.T) {
	cases := []struct {
		name     string
		db       reauth.Database
		host     string
		instance string
		port     uint64
	}{
		// jdbc:sqlserver://h:1433;databaseName=jira
		{"host port database", reauth.Database{Engine: reauth.SQLServer, Host: "sql.example", Port: 1433, Name: "jira", Schema: "dbo", User: "jira", Password: sec(hardPW)}, "sql.example", "", 1433},
		// jdbc:sqlserver://h;instanceName=JIRA;databaseName=jira and jdbc:sqlserver://h\JIRA
		{"named instance", reauth.Database{Engine: reauth.SQLServer, Host: "sql.example", Instance: "JIRA", Name: "jira", User: "u", Password: sec("pw")}, "sql.example", "JIRA", 0},
		{"named instance with port", reauth.Database{Engine: reauth.SQLServer, Host: "h", Port: 1500, Instance: "I1", Name: "d", User: "u"}, "h", "I1", 1500},
		// jdbc:jtds:sqlserver://h:1433/jira
		{"jtds", reauth.Database{Engine: reauth.SQLServer, Host: "h", Port: 1433, Name: "jira", User: "u"}, "h", "", 1433},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			drv, dsn, err := DSN(c.db)
			if err != nil || drv != "sqlserver" {
				t.Fatalf("%s %v", drv, err)
			}
			cfg, err := msdsn.Parse(dsn)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Host != c.host || cfg.Instance != c.instance || (c.port != 0 && cfg.Port != c.port) || cfg.Database != c.db.Name ||
				cfg.User != c.db.User || cfg.Password != c.db.Password.Reveal() || cfg.AppName != "reauth" {
				t.Fatalf("parsed host %q inst %q port %d db %q user %q pw %q app %q", cfg.Host, cfg.Instance, cfg.Port, cfg.Database, cfg.User, cfg.Password, cfg.AppName)
			}
		})
	}
	_, _, err := DSN(reauth.Database{Engine: reauth.SQLServer, Host: "h", Name: "d", Params: map[string]string{"integratedSecurity": "true"}})
	if reauth.CodeOf(err) != reauth.ExitUsage || reauth.HintOf(err) == "" {
		t.Fatalf("integratedSecurity: %v", err)
	}
}

func TestDSNOracle(t *testing.T) {
	desc := "(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=ora.example)(PORT=1522))(CONNECT_DATA=(SERVICE_NAME=JIRA)))"
	cases := []struct {
		name         string
		db           reauth.Database
		host         string
		port         int
		service, sid string
	}{
		// jdbc:oracle:thin:@//h:1521/service
		{"service", reauth.Database{Engine: reauth.Oracle, Host: "ora.example", Port: 1521, Name: "jira.example", User: "jira", Password: sec(hardPW)}, "ora.example", 1521, "jira.example", ""},
		// jdbc:oracle:thin:@h:1521:SID
		{"sid", reauth.Database{Engine: reauth.Oracle, Host: "ora.example", Port: 1521, Name: "ORCL", OracleSID: true, User: "jira", Password: sec("pw")}, "ora.example", 1521, "", "ORCL"},
		// jdbc:oracle:thin:@(DESCRIPTION=…)
		{"descriptor", reauth.Database{Engine: reauth.Oracle, OracleDescriptor: desc, Host: "ora.example", Port: 1522, Name: "JIRA", User: "jira", Password: sec("pw")}, "ora.example", 1522, "JIRA", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			drv, dsn, err := DSN(c.db)
			if err != nil || drv != "oracle" {
				t.Fatalf("%s %v", drv, err)
			}
			cfg, err := configurations.ParseConfig(dsn)
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Servers) == 0 || cfg.Servers[0].Addr != c.host || cfg.Servers[0].Port != c.port || cfg.ServiceName != c.service ||
				cfg.SID != c.sid || cfg.UserID != c.db.User || cfg.Password != c.db.Password.Reveal() {
				t.Fatalf("parsed %+v service %q sid %q user %q", cfg.Servers, cfg.ServiceName, cfg.SID, cfg.UserID)
			}
		})
	}
	// Deterministic: the same target always gives the same DSN (go-ora's BuildUrl does not).
	db := cases[0].db
	_, a, _ := DSN(db)
	for i := 0; i < 20; i++ {
		if _, b, _ := DSN(db); a != b {
			t.Fatal("oracle DSN is not deterministic")
		}
	}
}

func TestDSNRefusesIncompleteTargets(t *testing.T) {
	for _, db := range []reauth.Database{
		{Engine: reauth.Postgres, Host: "h"},
		{Engine: reauth.MySQL, Name: "d"},
		{Engine: reauth.SQLServer, Name: "d"},
		{Engine: reauth.Oracle, Host: "h"},
		{Engine: reauth.SQLite},
		{Engine: "db2", Host: "h", Name: "d"},
	} {
		if _, _, err := DSN(db); reauth.CodeOf(err) != reauth.ExitUsage {
			t.Errorf("%+v: %v", db, err)
		}
	}
}

// A mistyped SQLite path is refused, and no empty database file is left behind.
func TestDSNSQLiteMissingFile(t *testing.T) {
	path := t.TempDir() + "/nope.db"
	if _, _, err := DSN(reauth.Database{Engine: reauth.SQLite, Name: path}); reauth.CodeOf(err) != reauth.ExitUsage {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("a database file was created")
	}
}
