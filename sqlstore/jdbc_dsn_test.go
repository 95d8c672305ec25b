package sqlstore

import (
	"strconv"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/microsoft/go-mssqldb/msdsn"
	"github.com/sijms/go-ora/v2/configurations"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

// From every JDBC URL form of docs/atlassian.md, through atlassian.ParseJDBCURL and DSN, to what
// each driver's own parser says it will connect to.
func TestDSNFromJDBCURLs(t *testing.T) {
	cases := []struct {
		url                     string
		host, port, name, extra string // extra: instance, SID or schema
	}{
		{"jdbc:postgresql://pg.example:5432/jira?currentSchema=jiraschema", "pg.example", "5432", "jira", ""},
		{"jdbc:postgresql://pg.example/confluence", "pg.example", "5432", "confluence", ""},
		{"jdbc:mysql://my.example:3306/jiradb?useUnicode=true&characterEncoding=UTF8", "my.example", "3306", "jiradb", ""},
		{"jdbc:mysql://address=(protocol=tcp)(host=my.example)(port=3307)/jiradb", "my.example", "3307", "jiradb", ""},
		{"jdbc:mariadb://maria.example:3306/confluence", "maria.example", "3306", "confluence", ""},
		{"jdbc:sqlserver://sql.example:1433;databaseName=jiradb", "sql.example", "1433", "jiradb", ""},
		{"jdbc:sqlserver://sql.example;instanceName=JIRA;databaseName=jiradb", "sql.example", "", "jiradb", "JIRA"},
		{`jdbc:sqlserver://sql.example\JIRA;databaseName=jiradb`, "sql.example", "", "jiradb", "JIRA"},
		{"jdbc:jtds:sqlserver://sql.example:1433/jiradb", "sql.example", "1433", "jiradb", ""},
		{"jdbc:oracle:thin:@ora.example:1521:ORCL", "ora.example", "1521", "", "ORCL"},
		{"jdbc:oracle:thin:@//ora.example:1521/jira.example", "ora.example", "1521", "jira.example", ""},
		{"jdbc:oracle:thin:@(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=ora.example)(PORT=1522))(CONNECT_DATA=(SERVICE_NAME=JIRA)))", "ora.example", "1522", "JIRA", ""},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			db, err := atlassian.ParseJDBCURL(c.url)
			if err != nil {
				t.Fatalf("ParseJDBCURL: %v", err)
			}
			if strings.Contains(c.url, "currentSchema=") && db.Schema != "jiraschema" {
				t.Fatalf("schema %q lost: the store would look for the table in the wrong schema", db.Schema)
			}
			db.User, db.Password = "u", reauth.NewSecret(hardPW)
			_, dsn, err := DSN(db)
			if err != nil {
				t.Fatal(err)
			}
			var host, port, name, extra, pw string
			switch db.Engine {
			case reauth.Postgres:
				cfg, err := pgx.ParseConfig(dsn)
				if err != nil {
					t.Fatal(err)
				}
				host, port, name, pw = cfg.Host, itoa(int(cfg.Port)), cfg.Database, cfg.Password
			case reauth.MySQL, reauth.MariaDB:
				cfg, err := mysql.ParseDSN(dsn)
				if err != nil {
					t.Fatal(err)
				}
				h, p, _ := strings.Cut(cfg.Addr, ":")
				host, port, name, pw = h, p, cfg.DBName, cfg.Passwd
			case reauth.SQLServer:
				cfg, err := msdsn.Parse(dsn)
				if err != nil {
					t.Fatal(err)
				}
				host, name, extra, pw = cfg.Host, cfg.Database, cfg.Instance, cfg.Password
				if cfg.Instance == "" {
					port = itoa(int(cfg.Port))
				}
			case reauth.Oracle:
				cfg, err := configurations.ParseConfig(dsn)
				if err != nil {
					t.Fatal(err)
				}
				host, port, name, extra, pw = cfg.Servers[0].Addr, itoa(cfg.Servers[0].Port), cfg.ServiceName, cfg.SID, cfg.Password
			}
			if host != c.host || port != c.port || name != c.name || extra != c.extra || pw != hardPW {
				t.Fatalf("driver sees host %q port %q name %q extra %q pw ok %v; want %q %q %q %q", host, port, name, extra, pw == hardPW,
					c.host, c.port, c.name, c.extra)
			}
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}
