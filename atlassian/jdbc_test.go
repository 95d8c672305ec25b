package atlassian

import (
	"reflect"
	"strings"
	"testing"

	"github.com/reauth/reauth"
)

func TestParseJDBCURL(t *testing.T) {
	tests := []struct {
		url  string
		want reauth.Database
	}{
		// PostgreSQL
		{"jdbc:postgresql://db.example.com:5432/jira", reauth.Database{Engine: reauth.Postgres, Host: "db.example.com", Port: 5432, Name: "jira"}},
		{"jdbc:postgresql://postgresql/confluence", reauth.Database{Engine: reauth.Postgres, Host: "postgresql", Port: 5432, Name: "confluence"}},
		{"jdbc:postgresql://h:6432/db?currentSchema=jiraschema&sslmode=require&tcpKeepAlive=true&ApplicationName=x",
			reauth.Database{Engine: reauth.Postgres, Host: "h", Port: 6432, Name: "db", Schema: "jiraschema",
				Params: map[string]string{"sslmode": "require", "tcpKeepAlive": "true"}}},
		{"jdbc:postgresql://h/db?currentSchema=a,public", reauth.Database{Engine: reauth.Postgres, Host: "h", Port: 5432, Name: "db", Schema: "a"}},
		{"jdbc:postgresql://[::1]:5433/db", reauth.Database{Engine: reauth.Postgres, Host: "::1", Port: 5433, Name: "db"}},
		{"jdbc:postgresql://h1:5432,h2:5433/db?targetServerType=primary",
			reauth.Database{Engine: reauth.Postgres, Host: "h1", Port: 5432, Name: "db", Params: map[string]string{"targetServerType": "primary"}}},
		{"jdbc:postgresql:jira", reauth.Database{Engine: reauth.Postgres, Host: "localhost", Port: 5432, Name: "jira"}},
		{"jdbc:postgresql://h/db?user=jira", reauth.Database{Engine: reauth.Postgres, Host: "h", Port: 5432, Name: "db", User: "jira"}},
		// MySQL / MariaDB
		{"jdbc:mysql://mysql:3306/jiradb?useUnicode=true&characterEncoding=UTF8&sessionVariables=default_storage_engine=InnoDB",
			reauth.Database{Engine: reauth.MySQL, Host: "mysql", Port: 3306, Name: "jiradb"}},
		{"jdbc:mysql://192.168.4.2/confluence?sessionVariables=storage_engine%3DInnoDB&useUnicode=true",
			reauth.Database{Engine: reauth.MySQL, Host: "192.168.4.2", Port: 3306, Name: "confluence"}},
		{"jdbc:mysql://db:3306/bitbucket?useUnicode=true&characterEncoding=UTF8&useSSL=false",
			reauth.Database{Engine: reauth.MySQL, Host: "db", Port: 3306, Name: "bitbucket", Params: map[string]string{"useSSL": "false"}}},
		{"jdbc:mysql://address=(protocol=tcp)(host=localhost)(port=3306)/jiradb?useUnicode=true",
			reauth.Database{Engine: reauth.MySQL, Host: "localhost", Port: 3306, Name: "jiradb"}},
		{"jdbc:mysql://address=(host=db1)(port=3310)(type=master),address=(host=db2)(port=3311)/j",
			reauth.Database{Engine: reauth.MySQL, Host: "db1", Port: 3310, Name: "j"}},
		{"jdbc:mysql://(host=h,port=3317)/j", reauth.Database{Engine: reauth.MySQL, Host: "h", Port: 3317, Name: "j"}},
		{"jdbc:mysql://h1:3306,h2:3307/j", reauth.Database{Engine: reauth.MySQL, Host: "h1", Port: 3306, Name: "j"}},
		{"jdbc:mysql:loadbalance://h1,h2/j", reauth.Database{Engine: reauth.MySQL, Host: "h1", Port: 3306, Name: "j"}},
		{"jdbc:mariadb://maria:3307/jira?sslMode=verify-full", reauth.Database{Engine: reauth.MariaDB, Host: "maria", Port: 3307, Name: "jira",
			Params: map[string]string{"sslMode": "verify-full"}}},
		{"jdbc:mariadb:sequential://m1,m2/jira", reauth.Database{Engine: reauth.MariaDB, Host: "m1", Port: 3306, Name: "jira"}},
		{"jdbc:mysql://jira@h/j", reauth.Database{Engine: reauth.MySQL, Host: "h", Port: 3306, Name: "j", User: "jira"}},
		// SQL Server
		{"jdbc:sqlserver://sql1:1433;databaseName=jiradb;instanceName=PROD;integratedSecurity=true;encrypt=true;trustServerCertificate=false",
			reauth.Database{Engine: reauth.SQLServer, Host: "sql1", Port: 1433, Name: "jiradb", Instance: "PROD",
				Params: map[string]string{"integratedSecurity": "true", "encrypt": "true", "trustServerCertificate": "false"}}},
		{"jdbc:sqlserver://sql1;DATABASE=conf", reauth.Database{Engine: reauth.SQLServer, Host: "sql1", Port: 1433, Name: "conf"}},
		{`jdbc:sqlserver://sql1\SQLEXPRESS;databaseName=db`, reauth.Database{Engine: reauth.SQLServer, Host: "sql1", Instance: "SQLEXPRESS", Name: "db"}},
		{`jdbc:sqlserver://sql1\SQLEXPRESS:1500;databaseName=db`, reauth.Database{Engine: reauth.SQLServer, Host: "sql1", Port: 1500, Instance: "SQLEXPRESS", Name: "db"}},
		{"jdbc:sqlserver://;serverName=s2;portNumber=1444;DatabaseName={we;ird}", reauth.Database{Engine: reauth.SQLServer, Host: "s2", Port: 1444, Name: "we;ird"}},
		{"jdbc:sqlserver://localhost:1433;databaseName=db;", reauth.Database{Engine: reauth.SQLServer, Host: "localhost", Port: 1433, Name: "db"}},
		// jTDS
		{"jdbc:jtds:sqlserver://sql1:1433/jiradb;instance=PROD;ssl=require", reauth.Database{Engine: reauth.SQLServer, Host: "sql1", Port: 1433,
			Name: "jiradb", Instance: "PROD", Params: map[string]string{"ssl": "require"}}},
		{"jdbc:jtds:sqlserver://sql1/db", reauth.Database{Engine: reauth.SQLServer, Host: "sql1", Port: 1433, Name: "db"}},
		// Oracle
		{"jdbc:oracle:thin:@ora1:1521:ORCL", reauth.Database{Engine: reauth.Oracle, Host: "ora1", Port: 1521, Name: "ORCL", OracleSID: true}},
		{"jdbc:oracle:thin:@//ora1:1522/jira.example.com", reauth.Database{Engine: reauth.Oracle, Host: "ora1", Port: 1522, Name: "jira.example.com"}},
		{"jdbc:oracle:thin:@ora1:1521/svc", reauth.Database{Engine: reauth.Oracle, Host: "ora1", Port: 1521, Name: "svc"}},
		{"jdbc:oracle:thin:@ora1/svc", reauth.Database{Engine: reauth.Oracle, Host: "ora1", Port: 1521, Name: "svc"}},
		{"jdbc:oracle:thin:@tcps://ora1:2484/svc", reauth.Database{Engine: reauth.Oracle, Host: "ora1", Port: 2484, Name: "svc", Params: map[string]string{"protocol": "tcps"}}},
		{"jdbc:oracle:thin:@(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=orahost)(PORT=1530))(CONNECT_DATA=(SERVICE_NAME=jirasvc)))",
			reauth.Database{Engine: reauth.Oracle, Host: "orahost", Port: 1530, Name: "jirasvc",
				OracleDescriptor: "(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=orahost)(PORT=1530))(CONNECT_DATA=(SERVICE_NAME=jirasvc)))"}},
		{"jdbc:oracle:thin:@( description = (address_list = (address = (protocol = tcp)(host = a)(port = 1521))(address=(host=b)(port=1521))) (connect_data = (sid = ORCL)))",
			reauth.Database{Engine: reauth.Oracle, Host: "a", Port: 1521, Name: "ORCL", OracleSID: true,
				OracleDescriptor: "( description = (address_list = (address = (protocol = tcp)(host = a)(port = 1521))(address=(host=b)(port=1521))) (connect_data = (sid = ORCL)))"}},
		// SQLite (the sandbox)
		{"jdbc:sqlite:/tmp/sandbox/db.sqlite", reauth.Database{Engine: reauth.SQLite, Name: "/tmp/sandbox/db.sqlite"}},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := ParseJDBCURL(tt.url)
			if err != nil {
				t.Fatalf("ParseJDBCURL: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseJDBCURLCredentialsInURL(t *testing.T) {
	tests := []struct{ url, user, pass string }{
		{"jdbc:postgresql://h/db?user=jira&password=s3cret", "jira", "s3cret"},
		{"jdbc:mysql://jira:s3cret@h:3306/j", "jira", "s3cret"},
		{"jdbc:sqlserver://h;databaseName=d;user=jira;password={s3;cret}", "jira", "s3;cret"},
		{"jdbc:oracle:thin:jira/s3cret@//h:1521/svc", "jira", "s3cret"},
	}
	for _, tt := range tests {
		db, err := ParseJDBCURL(tt.url)
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		if db.User != tt.user || db.Password.Reveal() != tt.pass || db.PasswordSource != "jdbc url" {
			t.Errorf("%s: user %q password %q source %q", tt.url, db.User, db.Password.Reveal(), db.PasswordSource)
		}
		if _, ok := db.Params["password"]; ok {
			t.Errorf("%s: password kept in Params", tt.url)
		}
	}
}

func TestParseJDBCURLNotes(t *testing.T) {
	tests := []struct{ url, note string }{
		{"jdbc:mysql://h1:3306,h2:3307/j", "using the first"},
		{"jdbc:postgresql://a,b/db", "using the first"},
		{`jdbc:sqlserver://s\INST;databaseName=d`, "SQL Server Browser"},
		{"jdbc:mysql:replication://a,b/j", "first host only"},
	}
	for _, tt := range tests {
		_, notes, err := ParseJDBCURLNotes(tt.url)
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		if !strings.Contains(strings.Join(notes, "\n"), tt.note) {
			t.Errorf("%s: notes %q lack %q", tt.url, notes, tt.note)
		}
	}
}

func TestParseJDBCURLErrors(t *testing.T) {
	tests := []struct{ url, want string }{
		{"", "not a JDBC URL"},
		{"postgres://h/db", "not a JDBC URL"},
		{"jdbc:mysql", "no ':' after jdbc:mysql"},  // found by FuzzParseJDBCURL
		{"\xea:thin:", "not a JDBC URL"},           // found by FuzzParseJDBCURL (redaction of invalid UTF-8)
		{"jdbc:oracle:thin:\xea/pw@x", "tnsnames"}, // redaction must keep byte offsets
		{"jdbc:h2:file:/var/atlassian/jira/database/h2db", "embedded evaluation database (H2): not supported; migrate to a supported database"},
		{"jdbc:hsqldb:/var/fecru/var/data/crudb/crucible", "embedded evaluation database (HSQLDB)"},
		{"jdbc:db2://h:50000/db", "unsupported JDBC subprotocol"},
		{"jdbc:postgresql://h:99999/db", "port \"99999\""},
		{"jdbc:postgresql://h:5432/", "no database name"},
		{"jdbc:mysql://h:abc/db", "port \"abc\""},
		{"jdbc:mysql:h/db", "expected jdbc:mysql://"},
		{"jdbc:sqlserver://h:1433", "no database name"},
		{"jdbc:sqlserver://h;databaseName", "has no value"},
		{"jdbc:sqlserver://h;databaseName={x", "unclosed {"},
		{"jdbc:jtds:sybase://h:5000/db", "only jTDS for SQL Server"},
		{"jdbc:oracle:thin:@JIRADB", "tnsnames.ora alias"},
		{"jdbc:oracle:thin:@(DESCRIPTION=(ADDRESS=(HOST=h)(PORT=1521))", "unbalanced"},
		{"jdbc:oracle:thin:@(DESCRIPTION=(ADDRESS=(HOST=h)(PORT=1521)))", "SERVICE_NAME"},
		{"jdbc:oracle:thin:@ldap://ldap/cn=x", "LDAP naming"},
		{"jdbc:oracle:thin://h", "no @"},
		{"jdbc:sqlite:", "needs a file path"},
		{"jdbc:postgresql://[::1/db", "unclosed ["},
	}
	for _, tt := range tests {
		_, err := ParseJDBCURL(tt.url)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want it to contain %q", tt.url, err, tt.want)
		}
	}
}

func TestJDBCErrorsNeverShowPassword(t *testing.T) {
	for _, u := range []string{
		"jdbc:mysql://jira:TopSecret1@h:notaport/j",
		"jdbc:postgresql://h:0/db?password=TopSecret1",
		"jdbc:oracle:thin:jira/TopSecret1@JIRADB",
		"jdbc:sqlserver://h:x;password=TopSecret1",
		"jdbc:postgresql://h:p/db;password=TopSecret1",
		"jdbc:postgresql://h:5432/db;password=TopSecret1",   // a valid port: the name carried it
		"jdbc:postgresql://h/db;user=u;Password=TopSecret1", // any case
		"jdbc:mysql://h:3306/db;password=TopSecret1",
		"jdbc:mariadb://h/db;password=TopSecret1",
	} {
		_, err := ParseJDBCURL(u)
		if err == nil {
			t.Fatalf("%s: expected an error", u)
		}
		if strings.Contains(err.Error(), "TopSecret1") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}
