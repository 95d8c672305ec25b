package atlassian

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/testenv"
)

// want is what a config must resolve to; the values were read off each real file by hand.
type want struct {
	engine                   reauth.Engine
	host                     string
	port                     int
	name, schema, user       string
	instance, passwordSource string
}

func (w want) check(t *testing.T, db reauth.Database) {
	t.Helper()
	got := want{db.Engine, db.Host, db.Port, db.Name, db.Schema, db.User, db.Instance, db.PasswordSource}
	exp := w
	if exp.passwordSource == "" {
		exp.passwordSource = "config"
	}
	if got != exp {
		t.Errorf("database\n got  %+v\n want %+v", got, exp)
	}
}

func realcase(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.Realcases(t), "configs", rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// discoverContent writes content as product p's config file in a fresh home and runs Discover.
// content "" leaves the home empty.
func discoverContent(t *testing.T, p ProductID, content string, env map[string]string, install string) (Discovery, error) {
	t.Helper()
	prod, err := Lookup(string(p))
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	if content != "" {
		path := filepath.Join(home, prod.ConfigFile)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return Discover(DiscoverOptions{Product: p, Home: home, Install: install, Getenv: mapEnv(env)})
}

func mapEnv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

func mustDiscover(t *testing.T, p ProductID, content string, env map[string]string, install string) Discovery {
	t.Helper()
	d, err := discoverContent(t, p, content, env, install)
	if err != nil {
		t.Fatalf("Discover: %v (hint: %s)", err, reauth.HintOf(err))
	}
	return d
}

// TestRealConfigs parses every real config file with database settings, as found.
func TestRealConfigs(t *testing.T) {
	tests := []struct {
		product ProductID
		file    string
		want    want
	}{
		{Jira, "jira/FrontendSolutionsGmbH+jira-mysql-https-docker-compose__dbconfig.xml",
			want{engine: reauth.MySQL, host: "mysql", port: 3306, name: "jiradb", user: "JIRA_MYSQL_USER"}},
		{Jira, "jira/codeclou-archive+docker-atlassian-jira-data-center__dbconfig.xml",
			want{engine: reauth.Postgres, host: "jira-cluster-840-db", port: 5432, name: "jira", schema: "public", user: "jira"}},
		{Jira, "jira/dgk1983+configfiles__dbconfig.xml",
			want{engine: reauth.MySQL, host: "localhost", port: 3306, name: "jiradb", schema: "jiradb", user: "jiradbuser"}},
		{Confluence, "confluence/LuLiMingAmos+confluencewiki__confluence.cfg.xml",
			want{engine: reauth.MySQL, host: "192.168.4.2", port: 3306, name: "confluence", user: "confluence_user"}},
		{Confluence, "confluence/atlassian-arm+docker-atlassian-confluence-server__func-tests_confluence_confluence-home_confluence.cfg.xml.tmpl",
			want{engine: reauth.Postgres, host: "postgresql", port: 5432, name: "confluence", user: "confluence"}},
		{Bamboo, "bamboo/yanggongbi+docker-images__bamboo.cfg.xml",
			want{engine: reauth.Postgres, host: "172.17.0.17", port: 5432, name: "postgres", user: "postgres"}},
		{Bitbucket, "bitbucket/materliu+bitbucket-docker-compose__bitbucket.properties",
			want{engine: reauth.MySQL, host: "db", port: 3306, name: "bitbucket", user: "materliu"}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			d := mustDiscover(t, tt.product, realcase(t, tt.file), nil, "")
			tt.want.check(t, d.Database)
			if d.ConfigFile == "" || !strings.HasSuffix(d.ConfigFile, filepath.Base(d.Product.ConfigFile)) {
				t.Errorf("ConfigFile = %q", d.ConfigFile)
			}
			if d.Database.Password.IsZero() && tt.product != Bamboo {
				t.Errorf("password not read")
			}
		})
	}
}

// TestRealConfigsWithoutDatabase: files that carry no database settings must say so and name the file.
func TestRealConfigsWithoutDatabase(t *testing.T) {
	tests := []struct {
		product ProductID
		file    string
	}{
		{Bitbucket, "bitbucket/heyvaldemar+properties-bitbucket__bitbucket.properties"},
		{Bitbucket, "bitbucket/jhosee+bitbucket__bitbucket.properties"},
		{Bamboo, "bamboo/ajay75+docker-bamboo-server__bamboo.cfg.xml"},
		{Bamboo, "bamboo/yanggongbi+docker-images__bamboo-server_bamboo.cfg.xml"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			_, err := discoverContent(t, tt.product, realcase(t, tt.file), nil, "")
			if err == nil {
				t.Fatal("no error")
			}
			p, _ := Lookup(string(tt.product))
			if !strings.Contains(err.Error(), p.ConfigFile+" has no database settings") {
				t.Errorf("error %q does not name the file and say it has no database settings", err)
			}
			hint := reauth.HintOf(err)
			if !strings.Contains(hint, "--jdbc-url") || !strings.Contains(hint, p.EnvJDBCPrefix+"URL") {
				t.Errorf("hint %q does not offer --jdbc-url and the env vars", hint)
			}
			if reauth.CodeOf(err) != reauth.ExitRefused {
				t.Errorf("exit code %d, want 4", reauth.CodeOf(err))
			}
			// The official images' env vars then supply the database (Bamboo's image keeps it there).
			env := map[string]string{p.EnvJDBCPrefix + "URL": "jdbc:postgresql://db:5432/prod", p.EnvJDBCPrefix + "USER": "u", p.EnvJDBCPrefix + "PASSWORD": "pw"}
			d := mustDiscover(t, tt.product, realcase(t, tt.file), env, "")
			want{engine: reauth.Postgres, host: "db", port: 5432, name: "prod", user: "u", passwordSource: "env " + p.EnvJDBCPrefix + "PASSWORD"}.check(t, d.Database)
			if d.ConfigFile != "" || len(d.Warnings) == 0 || !strings.Contains(d.Warnings[0], "has no database settings") {
				t.Errorf("ConfigFile %q warnings %q", d.ConfigFile, d.Warnings)
			}
		})
	}
}

func TestRealJNDIConfig(t *testing.T) {
	content := realcase(t, "jira/Teams-Work-Ltd+atlassian-jira-hikaricp__dbconfig.xml")
	_, err := discoverContent(t, Jira, content, nil, "")
	if err == nil || !strings.Contains(err.Error(), "JNDI datasource java:comp/env/jdbc/JiraDS") ||
		!strings.Contains(reauth.HintOf(err), "--install") || !strings.Contains(reauth.HintOf(err), "--jdbc-url") {
		t.Fatalf("without --install: %v (hint %q)", err, reauth.HintOf(err))
	}
	// With the install directory: a HikariCP <Resource> in server.xml, as that repository uses.
	install := t.TempDir()
	writeFile(t, filepath.Join(install, "conf/server.xml"), `<Server port="8005"><Service name="Catalina"><Engine name="Catalina">
<Host name="localhost"><Context path="" docBase="${catalina.home}/atlassian-jira">
<Resource name="jdbc/JiraDS" auth="Container" type="javax.sql.DataSource" factory="com.zaxxer.hikari.HikariJNDIFactory"
  driverClassName="org.postgresql.Driver" jdbcUrl="jdbc:postgresql://pg.internal:5432/jiradb?sslmode=require&amp;tcpKeepAlive=true"
  username="jira_app" password="hikari-pw" maximumPoolSize="40"/>
<Manager pathname=""/></Context></Host></Engine></Service></Server>`)
	d := mustDiscover(t, Jira, content, nil, install)
	want{engine: reauth.Postgres, host: "pg.internal", port: 5432, name: "jiradb", schema: "public", user: "jira_app"}.check(t, d.Database)
	if d.Database.Password.Reveal() != "hikari-pw" || d.Database.Params["sslmode"] != "require" {
		t.Errorf("password/params not taken from the Resource: %+v", d.Database.Params)
	}
}

func TestRealConfigMap(t *testing.T) {
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	if err := yaml.Unmarshal([]byte(realcase(t, "jira/alekssaul+DemoLab__apps_jira_jira_configmaps.yaml")), &cm); err != nil {
		t.Fatal(err)
	}
	d := mustDiscover(t, Jira, cm.Data["dbconfig.xml"], nil, "")
	want{engine: reauth.MySQL, host: "pxc-cluster", port: 3306, name: "jira", user: "jira"}.check(t, d.Database)
}

// composeEnv returns a docker-compose service's environment with ${VAR} replaced from vars.
func composeEnv(t *testing.T, file, service string, vars map[string]string) map[string]string {
	t.Helper()
	var c struct {
		Services map[string]struct {
			Environment []string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal([]byte(realcase(t, file)), &c); err != nil {
		t.Fatal(err)
	}
	svc, ok := c.Services[service]
	if !ok {
		t.Fatalf("%s: no service %s", file, service)
	}
	env := map[string]string{}
	for _, kv := range svc.Environment {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = os.Expand(v, func(n string) string { return vars[n] })
	}
	return env
}

func TestRealComposeEnv(t *testing.T) {
	env := composeEnv(t, "jira/LMelker+Jira-DataCenter-Sandbox-Environment__docker-compose.yml", "jira-node2",
		map[string]string{"APP_DB_NAME": "jiradc", "APP_DB_USER": "jirauser", "APP_DB_PASS": "jirapass"})
	d := mustDiscover(t, Jira, "", env, "")
	want{engine: reauth.Postgres, host: "postgres", port: 5432, name: "jiradc", schema: "public", user: "jirauser",
		passwordSource: "env ATL_JDBC_PASSWORD"}.check(t, d.Database)
	if d.Database.Password.Reveal() != "jirapass" || len(d.Warnings) == 0 || !strings.Contains(d.Warnings[0], "no dbconfig.xml") {
		t.Errorf("password or warning wrong: %q", d.Warnings)
	}

	env = composeEnv(t, "bitbucket/atlassian-arm+docker-atlassian-bitbucket-server__func-tests_docker-compose.yml", "bitbucket", nil)
	d = mustDiscover(t, Bitbucket, "", env, "")
	want{engine: reauth.Postgres, host: "postgresql", port: 5432, name: "bitbucket", user: "bitbucket",
		passwordSource: "env JDBC_PASSWORD"}.check(t, d.Database)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
