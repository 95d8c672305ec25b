package atlassian

import (
	"regexp"
	"strings"
	"testing"

	"github.com/reauth/reauth"
)

// TestRealTemplates renders the real Ansible/Puppet/official-image templates with test values,
// then discovers from the result.
func TestRealTemplates(t *testing.T) {
	tests := []struct {
		name    string
		product ProductID
		file    string
		ruby    bool
		values  vals
		env     map[string]string
		want    want
		check   func(t *testing.T, d Discovery)
	}{
		{name: "antmelekhin ansible jira", product: Jira, file: "jira/antmelekhin+ansible-role-jira__templates_dbconfig.xml.j2",
			values: vals{"ansible_managed": "Ansible managed", "jira_db_host": "pg.example.com", "jira_db_port": "5433",
				"jira_db_name": "jiradb", "jira_db_username": "jira", "jira_db_password": "ansible-pw"},
			want: want{engine: reauth.Postgres, host: "pg.example.com", port: 5433, name: "jiradb", schema: "public", user: "jira"}},
		{name: "freedomofpress ansible jira", product: Jira, file: "jira/freedomofpress+ansible-role-atlassian__templates_dbconfig.xml.j2",
			values: vals{"jira_config_db_params[jira_config_db_type].type": "mysql8", "jira_config_db_params[jira_config_db_type].url": "mysql",
				"jira_config_db_params[jira_config_db_type].driver": "com.mysql.cj.jdbc.Driver", "jira_config_db_host": "db.internal",
				"jira_config_db_port": "3307", "jira_config_db_name": "jira", "jira_config_db_user": "jirauser", "jira_config_db_pass": "x"},
			want: want{engine: reauth.MySQL, host: "db.internal", port: 3307, name: "jira", schema: "public", user: "jirauser"}},
		{name: "ministryofjustice ansible jira", product: Jira, file: "jira/ministryofjustice+hmpps-engineering-jira-bootstrap__templates_dbconfig.xml.j2",
			values: vals{"jira_db_endpoint": "jira.abc.eu-west-2.rds.amazonaws.com", "jira_db_name": "jira", "jira_user": "jira_app", "jira_admin_password": "x"},
			want:   want{engine: reauth.MySQL, host: "jira.abc.eu-west-2.rds.amazonaws.com", port: 3306, name: "jira", user: "jira_app"}},
		{name: "official image jira, SQL Server", product: Jira, file: "jira/tuxnotes+docker-atlassian-jira__config_dbconfig.xml.j2",
			values: officialJira("mssql", `jdbc:sqlserver://mssql\JIRA:1433;databaseName=jiradb;encrypt=true`, "dbo"),
			want:   want{engine: reauth.SQLServer, host: "mssql", port: 1433, name: "jiradb", schema: "dbo", user: "jirauser", instance: "JIRA"}},
		{name: "official image jira, raw & in the URL", product: Jira, file: "jira/tuxnotes+docker-atlassian-jira__config_dbconfig.xml.j2",
			values: officialJira("postgres72", "jdbc:postgresql://pg:5432/jira?sslmode=require&tcpKeepAlive=true", "public"),
			want:   want{engine: reauth.Postgres, host: "pg", port: 5432, name: "jira", schema: "public", user: "jirauser"},
			check: func(t *testing.T, d Discovery) {
				if d.Database.Params["sslmode"] != "require" || !strings.Contains(strings.Join(d.Warnings, "\n"), "not well-formed XML") {
					t.Errorf("params %v warnings %q", d.Database.Params, d.Warnings)
				}
			}},
		{name: "apowers puppet erb", product: Jira, file: "jira/apowers+puppet-jira__templates_dbconfig.xml.erb", ruby: true,
			values: vals{"@database_server": "pgjira", "@database_name": "jiradb", "@database_user": "jira", "@database_pwd": "x"},
			want:   want{engine: reauth.Postgres, host: "pgjira", port: 5432, name: "jiradb", schema: "public", user: "jira"}},
		{name: "voxpupuli puppet epp, ATL_SECURED", product: Jira, file: "jira/voxpupuli+puppet-jira__templates_dbconfig.xml.epp", ruby: true,
			values: voxpupuli(vals{"$dbtype": "oracle10g", "$dburl": "jdbc:oracle:thin:@//ora.example.com:1521/JIRA",
				"$dbdriver": "oracle.jdbc.OracleDriver", "$dbuser": "JIRA", "$db_password_atl_secured": true, "$change_dbpassword": false}),
			want: want{engine: reauth.Oracle, host: "ora.example.com", port: 1521, name: "JIRA", user: "JIRA", passwordSource: "config (secured)"},
			check: func(t *testing.T, d Discovery) {
				if !strings.Contains(d.Database.PasswordProblem, "{ATL_SECURED}") || !strings.Contains(d.Database.PasswordProblem, EnvPassword) {
					t.Errorf("PasswordProblem = %q", d.Database.PasswordProblem)
				}
			}},
		{name: "voxpupuli puppet epp, plain", product: Jira, file: "jira/voxpupuli+puppet-jira__templates_dbconfig.xml.epp", ruby: true,
			values: voxpupuli(vals{"$dbtype": "postgres72", "$dbschema != undef": true, "$dbschema": "jira",
				"$dburl": "jdbc:postgresql://pg:5432/jira", "$dbdriver": "org.postgresql.Driver", "$dbuser": "jira",
				"$db_password_atl_secured": false, "$dbpassword": "puppet-pw"}),
			want: want{engine: reauth.Postgres, host: "pg", port: 5432, name: "jira", schema: "jira", user: "jira"}},
		{name: "official image confluence", product: Confluence, file: "confluence/atlassian-arm+docker-atlassian-confluence-server__config_confluence.cfg.xml.j2",
			values: officialConfluence(),
			want:   want{engine: reauth.Postgres, host: "confdb", port: 5432, name: "confluence", user: "confluser"}},
		{name: "yanggongbi bamboo .in", product: Bamboo, file: "bamboo/yanggongbi+docker-images__bamboo-server_bamboo.cfg.xml.in",
			want: want{engine: reauth.Postgres, host: "10.1.2.3", port: 5432, name: "postgres", user: "postgres"}},
		{name: "official image bamboo: database only in env", product: Bamboo, file: "bamboo/xfree123+docker-bamboo-server__config_bamboo.cfg.xml.j2",
			values: vals{"atl_broker_client_uri is defined": false, "atl_jdbc_url is defined": true},
			env: map[string]string{"ATL_JDBC_URL": "jdbc:mysql://mysql:3306/bamboo?useSSL=true", "ATL_JDBC_USER": "bamboo",
				"ATL_JDBC_PASSWORD": "x", "ATL_DB_TYPE": "mysql"},
			want: want{engine: reauth.MySQL, host: "mysql", port: 3306, name: "bamboo", user: "bamboo", passwordSource: "env ATL_JDBC_PASSWORD"}},
		{name: "idealista ansible bitbucket", product: Bitbucket, file: "bitbucket/idealista+bitbucket_role__templates_bitbucket.properties.j2",
			values: vals{"ansible_managed": "Ansible managed", "bitbucket_port": "7990", "bitbucket_jmx.enabled": "false",
				"bitbucket_proxy_configuration is defined": false, "bitbucket_database_configuration is defined": true,
				"bitbucket_setup_run is defined": false, "conf.driver": "oracle.jdbc.driver.OracleDriver",
				"conf.url": "jdbc:oracle:thin:@//ora.example.com:1521/BITBUCKET", "conf.user": "BITBUCKET", "conf.password": "p\\u00e4ss"},
			want: want{engine: reauth.Oracle, host: "ora.example.com", port: 1521, name: "BITBUCKET", user: "BITBUCKET"},
			check: func(t *testing.T, d Discovery) {
				if d.Database.Password.Reveal() != "päss" {
					t.Errorf("the \\u escape in the password was not decoded")
				}
			}},
		{name: "rhythmictech ansible bitbucket", product: Bitbucket, file: "bitbucket/rhythmictech+ansible-role-atlassian-bitbucket__templates_bitbucket.properties.j2",
			values: vals{"bitbucket_config is defined": true, "bitbucket_config.keys()|sort()": []vals{
				{"section": "jdbc", "bitbucket_config[section].keys()|sort()": []vals{
					{"item": "password", "bitbucket_config[section][item]": "rhythm-pw"},
					{"item": "url", "bitbucket_config[section][item]": "jdbc:sqlserver://mssql.example.com:1433;databaseName=bitbucket;encrypt=true"},
					{"item": "user", "bitbucket_config[section][item]": "bitbucket"}}},
				{"section": "server", "bitbucket_config[section].keys()|sort()": []vals{{"item": "port", "bitbucket_config[section][item]": "7990"}}},
			}},
			want: want{engine: reauth.SQLServer, host: "mssql.example.com", port: 1433, name: "bitbucket", user: "bitbucket"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := realcase(t, tt.file)
			var out string
			if strings.HasSuffix(tt.file, ".in") {
				out = strings.ReplaceAll(src, "POSTGRES_1_PORT_5432_TCP_ADDR", "10.1.2.3") // the image's sed placeholder
			} else {
				out = renderTemplate(t, src, tt.ruby, tt.values)
			}
			d := mustDiscover(t, tt.product, out, tt.env, "")
			tt.want.check(t, d.Database)
			if tt.check != nil {
				tt.check(t, d)
			}
		})
	}
}

func officialJira(dbType, url, schema string) vals {
	v := vals{"atl_db_type": dbType, "atl_jdbc_url": url, "atl_jdbc_user": "jirauser", "atl_jdbc_password": "jirapw",
		"atl_db_driver": "driver", "schema_names.get(atl_db_type, '')": schema,
		"atl_db_type == 'postgres72'": dbType == "postgres72", "atl_db_type in ['mysql', 'mysql57', 'mysql8']": false}
	return v
}

// voxpupuli sets every optional pool setting of the EPP template to undef.
func voxpupuli(v vals) vals {
	for _, k := range []string{"$dbschema", "$pool_min_size", "$pool_max_size", "$pool_max_wait", "$validation_query",
		"$min_evictable_idle_time", "$time_between_eviction_runs", "$pool_max_idle", "$pool_remove_abandoned",
		"$pool_remove_abandoned_timeout", "$pool_test_on_borrow", "$pool_test_while_idle", "$validation_query_timeout"} {
		if _, ok := v[k+" != undef"]; !ok {
			v[k+" != undef"] = false
		}
	}
	v["$connection_settings"] = false
	return v
}

func officialConfluence() vals {
	return vals{"atl_jdbc_url is defined": true, "atl_db_type": "postgresql",
		"atl_jdbc_url": "jdbc:postgresql://confdb:5432/confluence", "atl_jdbc_user": "confluser", "atl_jdbc_password": "confpw",
		"databases[atl_db_type][0]": "org.postgresql.Driver", "databases[atl_db_type][1]": "PostgreSQLDialect",
		`(confluence_version.split(".")[0] | int() == 7 and confluence_version.split(".")[1] | int() <= 13) or confluence_version.split(".")[0] | int() < 7`: true,
		"atl_cluster_type is defined": false, "atl_license_key is defined": false,
		"atl_tomcat_contextpath is defined and atl_tomcat_contextpath != ''": false, "atl_snapshot_used is defined": false}
}

// TestRealBambooDatabaseDefaults reads the official Bamboo image's per-database property
// templates (real Java properties with continuation lines) and the default URLs they carry.
func TestRealBambooDatabaseDefaults(t *testing.T) {
	tests := []struct {
		db   string
		want reauth.Database
		err  string
	}{
		{"postgresql", reauth.Database{Engine: reauth.Postgres, Host: "localhost", Port: 5432, Name: "bamboo"}, ""},
		{"mysql", reauth.Database{Engine: reauth.MySQL, Host: "localhost", Port: 3306, Name: "bamboo"}, ""},
		{"oracle", reauth.Database{Engine: reauth.Oracle, Host: "localhost", Port: 1521, Name: "SID", OracleSID: true}, ""},
		{"mssql", reauth.Database{Engine: reauth.SQLServer, Host: "localhost", Port: 1433, Name: "<insert_database>"}, ""},
		{"h2", reauth.Database{}, "embedded evaluation database (H2)"},
	}
	for _, tt := range tests {
		t.Run(tt.db, func(t *testing.T) {
			src := realcase(t, "bamboo/xfree123+docker-bamboo-server__config_"+tt.db+".properties.j2")
			props, err := ParseProperties([]byte(renderTemplate(t, src, false, vals{"atl_jdbc_user": "bamboo"})))
			if err != nil {
				t.Fatal(err)
			}
			if props["userName"] != "bamboo" || props["password"] != "" {
				t.Errorf("userName %q password %q", props["userName"], props["password"])
			}
			if tt.db == "mysql" && !strings.HasPrefix(props["note2"], "If you plan to use non-latin characters, you will also need to add &useUnicode") {
				t.Errorf("continuation lines not joined: note2 = %q", props["note2"])
			}
			db, err := ParseJDBCURL(props["databaseUrl"])
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || db.Engine != tt.want.Engine || db.Host != tt.want.Host || db.Port != tt.want.Port || db.Name != tt.want.Name || db.OracleSID != tt.want.OracleSID {
				t.Errorf("got %+v, %v; want %+v", db, err, tt.want)
			}
		})
	}
}

// TestRealSeraphTemplates puts the official images' rendered seraph-config.xml into an install
// directory and checks that discovery reads the remember-me cookie name from it.
func TestRealSeraphTemplates(t *testing.T) {
	tests := []struct {
		product ProductID
		file    string
		values  vals
		cookie  string
	}{
		{Jira, "jira/tuxnotes+docker-atlassian-jira__config_seraph-config.xml.j2", vals{}, "seraph.rememberme.cookie"},
		{Confluence, "confluence/atlassian-arm+docker-atlassian-confluence-server__config_seraph-config.xml.j2",
			vals{"atl_autologin_cookie_age is defined": false}, "seraph.confluence"},
		{Bamboo, "bamboo/xfree123+docker-bamboo-server__config_seraph-config.xml.j2",
			vals{"bamboo_version_parts[0]|int >= 10": true, "login_url": "/userlogin.action", "atl_autologin_cookie_age is defined": false}, "seraph.bamboo"},
	}
	for _, tt := range tests {
		t.Run(string(tt.product), func(t *testing.T) {
			p, _ := Lookup(string(tt.product))
			seraph := renderTemplate(t, realcase(t, tt.file), false, tt.values)
			// Rename the cookie in a second install to prove the value comes from the file.
			for i, name := range []string{tt.cookie, "custom.remember"} {
				install := t.TempDir()
				writeFile(t, install+"/"+p.SeraphConfig, strings.Replace(seraph, "<param-value>"+tt.cookie+"<", "<param-value>"+name+"<", 1))
				d := mustDiscover(t, tt.product, "", map[string]string{"ATL_JDBC_URL": "jdbc:postgresql://h/db"}, install)
				if d.RememberMeCookie != name {
					t.Errorf("case %d: cookie %q, want %q", i, d.RememberMeCookie, name)
				}
			}
		})
	}
}

var helmWith = regexp.MustCompile(`(?s)\{\{ with \.Values\.database\.([a-zA-Z.]+) \}\}(.*?)\{\{ end \}\}`)

// helmDatabaseEnv renders a chart's "<product>.databaseEnvVars" helper with the given values:
// exactly its constructs, {{ with .Values.database.X }} blocks holding "- name: N" entries whose
// value is the with-value (optionally through replace "&" "&amp;") or a secretKeyRef.
func helmDatabaseEnv(t *testing.T, product string, values map[string]string, secret map[string]string) map[string]string {
	t.Helper()
	src := realcase(t, "helm/atlassian+data-center-helm-charts__src_main_charts_"+product+"_templates__helpers.tpl")
	start := strings.Index(src, `{{- define "`+product+`.databaseEnvVars" -}}`)
	if start < 0 {
		t.Fatalf("%s chart has no databaseEnvVars helper", product)
	}
	block := src[start:]
	if next := strings.Index(block[1:], "{{- define"); next >= 0 { // up to the next helper
		block = block[:1+next]
	}
	env := map[string]string{}
	for _, m := range helmWith.FindAllStringSubmatch(block, -1) {
		v, ok := values[m[1]]
		if !ok {
			continue // an empty value: Helm's "with" skips the block
		}
		entries := strings.Split(m[2], "- name: ")
		for _, e := range entries[1:] {
			name := strings.TrimSpace(strings.SplitN(e, "\n", 2)[0])
			switch {
			case strings.Contains(e, "secretKeyRef"):
				keyExpr := regexp.MustCompile(`key: \{\{ \$\.Values\.database\.([a-zA-Z.]+) \}\}`).FindStringSubmatch(e)
				env[name] = secret[values[keyExpr[1]]]
			case strings.Contains(e, `replace "&" "&amp;"`) && !strings.Contains(v, "&amp;"):
				env[name] = strings.ReplaceAll(v, "&", "&amp;")
			default:
				env[name] = v
			}
		}
	}
	return env
}

func TestRealHelmChartEnv(t *testing.T) {
	secret := map[string]string{"username": "dbuser", "password": "helm-pw"}
	tests := []struct {
		product ProductID
		url     string
		want    want
	}{
		{Jira, "jdbc:postgresql://jira-db:5432/jira", want{engine: reauth.Postgres, host: "jira-db", port: 5432, name: "jira", user: "dbuser", passwordSource: "env ATL_JDBC_PASSWORD"}},
		{Confluence, "jdbc:postgresql://conf-db:5432/confluence?sslmode=require&tcpKeepAlive=true",
			want{engine: reauth.Postgres, host: "conf-db", port: 5432, name: "confluence", user: "dbuser", passwordSource: "env ATL_JDBC_PASSWORD"}},
		{Bamboo, "jdbc:mysql://bamboo-db/bamboo", want{engine: reauth.MySQL, host: "bamboo-db", port: 3306, name: "bamboo", user: "dbuser", passwordSource: "env ATL_JDBC_PASSWORD"}},
		{Bitbucket, "jdbc:sqlserver://bb-db:1433;databaseName=bitbucket", want{engine: reauth.SQLServer, host: "bb-db", port: 1433, name: "bitbucket", user: "dbuser", passwordSource: "env JDBC_PASSWORD"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.product), func(t *testing.T) {
			env := helmDatabaseEnv(t, string(tt.product), map[string]string{"type": "x", "url": tt.url, "driver": "d",
				"credentials.secretName": "db-secret", "credentials.usernameSecretKey": "username", "credentials.passwordSecretKey": "password"}, secret)
			d := mustDiscover(t, tt.product, "", env, "")
			tt.want.check(t, d.Database)
			if d.Database.Password.Reveal() != "helm-pw" {
				t.Errorf("password not taken from the secret env var")
			}
			if tt.product == Confluence && (env["ATL_JDBC_URL"] == tt.url || d.Database.Params["sslmode"] != "require") {
				t.Errorf("the chart's &amp; escaping was not undone: env %q params %v", env["ATL_JDBC_URL"], d.Database.Params)
			}
		})
	}
}
