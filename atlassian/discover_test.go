package atlassian

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth"
)

const b64pw = "czNjcjN0LXB3" // base64("s3cr3t-pw")

func dbconfig(extra, password string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<jira-database-config><name>defaultDS</name><database-type>postgres72</database-type><schema-name>public</schema-name>
<jdbc-datasource><url>jdbc:postgresql://pg:5432/jira</url><username>jira</username><password>` + password + `</password>` + extra + `
</jdbc-datasource></jira-database-config>`
}

func hibernate(root, extra, password string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><` + root + `><properties>
<property name="hibernate.connection.url">jdbc:postgresql://pg:5432/app</property>
<property name="hibernate.connection.username">app</property>
<property name="hibernate.connection.password">` + password + `</property>` + extra + `
</properties></` + root + `>`
}

func TestPasswordsInEverySyntax(t *testing.T) {
	prop := func(class string) string {
		return `<property name="jdbc.password.decrypter.classname">` + class + `</property>`
	}
	bb := func(key, class, pw string) string {
		return "jdbc.url=jdbc:postgresql://pg:5432/bitbucket\njdbc.user=bb\njdbc.password=" + pw + "\n" + key + "=" + class + "\n"
	}
	tests := []struct {
		name    string
		product ProductID
		content string
		source  string
		problem string // substring of PasswordProblem; "" = decoded to s3cr3t-pw
	}{
		{"jira plain", Jira, dbconfig("", "s3cr3t-pw"), "config", ""},
		{"jira base64 cipher", Jira, dbconfig("<atlassian-password-cipher-provider>"+Base64CipherClass+"</atlassian-password-cipher-provider>", b64pw), "config (base64)", ""},
		{"jira base64 secret store", Jira, dbconfig("<atlassian-password-cipher-provider>"+Base64SecretStoreClass+"</atlassian-password-cipher-provider>", b64pw), "config (base64)", ""},
		{"confluence base64 cipher", Confluence, hibernate("confluence-configuration", prop(Base64CipherClass), b64pw), "config (base64)", ""},
		{"confluence base64 secret store", Confluence, hibernate("confluence-configuration", prop(Base64SecretStoreClass), b64pw), "config (base64)", ""},
		{"bamboo base64 cipher", Bamboo, hibernate("application-configuration", prop(Base64CipherClass), b64pw), "config (base64)", ""},
		{"crowd base64 secret store", Crowd, hibernate("application-configuration", prop(Base64SecretStoreClass), b64pw), "config (base64)", ""},
		{"bitbucket decrypter base64", Bitbucket, bb("jdbc.password.decrypter.classname", Base64CipherClass, b64pw), "config (base64)", ""},
		{"bitbucket encrypted-property base64", Bitbucket, bb("encrypted-property.cipher.classname", Base64SecretStoreClass, b64pw), "config (base64)", ""},
		{"base64 without padding", Jira, dbconfig("<atlassian-password-cipher-provider>"+Base64CipherClass+"</atlassian-password-cipher-provider>", "czNjcjN0LXB3"), "config (base64)", ""},
		{"bad base64", Jira, dbconfig("<atlassian-password-cipher-provider>"+Base64CipherClass+"</atlassian-password-cipher-provider>", "!!notbase64!!"), "config (base64)", "not valid base64"},
		{"jira AES", Jira, dbconfig("<atlassian-password-cipher-provider>"+AESCipherClass+"</atlassian-password-cipher-provider>",
			`{"sealedObjectFilePath":"/nonexistent/sealed","keyFilePath":"/nonexistent/key","algorithm":"AES/CBC/PKCS5Padding"}`), "config (aes)", " "},
		{"confluence AES secret store", Confluence, hibernate("confluence-configuration", prop(AESSecretStoreClass),
			`{"sealedObjectFilePath":"/nonexistent/sealed","keyFilePath":"/nonexistent/key","algorithm":"AES/CBC/PKCS5Padding"}`), "config (aes)", " "},
		{"crowd AES-only store", Crowd, hibernate("application-configuration", prop("com.atlassian.crowd.crypto.AesOnlyAlgorithmSecretStore"),
			`{"sealedObjectFilePath":"/nonexistent/sealed","keyFilePath":"/nonexistent/key","algorithm":"AES/CBC/PKCS5Padding"}`), "config (aes)", " "},
		{"jira ATL_SECURED", Jira, dbconfig("", "{ATL_SECURED}"), "config (secured)", "{ATL_SECURED}"},
		{"bitbucket ATL_SECURED", Bitbucket, bb("x", "y", "{ATL_SECURED}"), "config (secured)", "product's own secret store"},
		{"unknown cipher", Bamboo, hibernate("application-configuration", prop("com.example.vault.VaultCipher"), "vault:abc"),
			"config (com.example.vault.VaultCipher)", "com.example.vault.VaultCipher"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustDiscover(t, tt.product, tt.content, nil, "")
			db := d.Database
			if db.PasswordSource != tt.source {
				t.Errorf("source %q, want %q", db.PasswordSource, tt.source)
			}
			if tt.problem == "" {
				if db.Password.Reveal() != "s3cr3t-pw" || db.PasswordProblem != "" {
					t.Errorf("password %q problem %q", db.Password.Reveal(), db.PasswordProblem)
				}
				return
			}
			if !strings.Contains(db.PasswordProblem, strings.TrimSpace(tt.problem)) || db.PasswordProblem == "" {
				t.Errorf("problem %q, want it to contain %q", db.PasswordProblem, tt.problem)
			}
			// The override then supplies the password.
			if err := ResolvePassword(&db, mapEnv(map[string]string{EnvPassword: "override"}), nil); err != nil ||
				db.Password.Reveal() != "override" || db.PasswordSource != "env "+EnvPassword {
				t.Errorf("override: %v %q %q", err, db.Password.Reveal(), db.PasswordSource)
			}
		})
	}
}

func TestResolvePassword(t *testing.T) {
	base := reauth.Database{Engine: reauth.Postgres, Host: "pg", Port: 5432, Name: "jira", User: "jira"}
	withConfig := base
	withConfig.Password, withConfig.PasswordSource = reauth.NewSecret("cfg"), "config"
	problem := base
	problem.PasswordSource, problem.PasswordProblem = "config (secured)", "the password is {ATL_SECURED}"
	emptyCfg := base
	emptyCfg.PasswordSource = "config"
	none := base
	none.PasswordSource = "none"

	var asked string
	prompt := func(msg string) (string, error) { asked = msg; return "typed", nil }
	tests := []struct {
		name       string
		db         reauth.Database
		env        map[string]string
		prompt     func(string) (string, error)
		wantPW     string
		wantSource string
		refused    bool
	}{
		{"env wins over config", withConfig, map[string]string{EnvPassword: "env-pw"}, prompt, "env-pw", "env " + EnvPassword, false},
		{"config used", withConfig, nil, prompt, "cfg", "config", false},
		{"empty config password is a password", emptyCfg, nil, nil, "", "config", false},
		{"problem asks the prompt", problem, nil, prompt, "typed", "prompt", false},
		{"problem without a terminal is refused", problem, nil, nil, "", "", true},
		{"absent asks the prompt", none, nil, prompt, "typed", "prompt", false},
		{"absent without a terminal is refused", none, nil, nil, "", "", true},
		{"prompt error is refused", none, nil, func(string) (string, error) { return "", errors.New("EOF") }, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := tt.db
			err := ResolvePassword(&db, mapEnv(tt.env), tt.prompt)
			if tt.refused {
				if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(reauth.HintOf(err), EnvPassword) {
					t.Fatalf("err %v (code %d, hint %q), want a refusal naming %s", err, reauth.CodeOf(err), reauth.HintOf(err), EnvPassword)
				}
				return
			}
			if err != nil || db.Password.Reveal() != tt.wantPW || db.PasswordSource != tt.wantSource || db.PasswordProblem != "" {
				t.Errorf("err %v pw %q source %q problem %q", err, db.Password.Reveal(), db.PasswordSource, db.PasswordProblem)
			}
		})
	}
	if !strings.Contains(asked, "pg:5432/jira") || strings.Contains(asked, "cfg") {
		t.Errorf("prompt text %q", asked)
	}
}

func TestDiscoverErrors(t *testing.T) {
	t.Run("unknown product is a usage error", func(t *testing.T) {
		_, err := Discover(DiscoverOptions{Product: "gitlab", Home: t.TempDir()})
		if reauth.CodeOf(err) != reauth.ExitUsage || !strings.Contains(err.Error(), "jira") {
			t.Errorf("%v", err)
		}
	})
	t.Run("missing home directory is refused", func(t *testing.T) {
		_, err := Discover(DiscoverOptions{Product: Jira, Home: filepath.Join(t.TempDir(), "nope")})
		if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "no such file") || !strings.Contains(reauth.HintOf(err), "--home") {
			t.Errorf("%v / %q", err, reauth.HintOf(err))
		}
	})
	t.Run("empty home names the file", func(t *testing.T) {
		_, err := discoverContent(t, Confluence, "", nil, "")
		if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "confluence.cfg.xml not found") ||
			!strings.Contains(reauth.HintOf(err), "ATL_JDBC_URL") {
			t.Errorf("%v / %q", err, reauth.HintOf(err))
		}
	})
	t.Run("malformed XML names the file and line", func(t *testing.T) {
		_, err := discoverContent(t, Jira, "<jira-database-config>\n<database-type>postgres72</database-type>\n<jdbc-datasource>\n<url>x</jdbc-datasource>\n</jira-database-config>", nil, "")
		if err == nil || !strings.Contains(err.Error(), "dbconfig.xml") || !strings.Contains(err.Error(), "line 4") ||
			!strings.Contains(reauth.HintOf(err), "--jdbc-url") {
			t.Errorf("%v / %q", err, reauth.HintOf(err))
		}
	})
	t.Run("bad URL in config names the file, never the password", func(t *testing.T) {
		c := strings.Replace(dbconfig("", "TopSecret9"), "jdbc:postgresql://pg:5432/jira", "jdbc:postgresql://pg:5432/jira?password=TopSecret9&x=jdbc:h2", 1)
		c = strings.Replace(c, "pg:5432", "pg:99999", 1)
		_, err := discoverContent(t, Jira, c, nil, "")
		if err == nil || !strings.Contains(err.Error(), "dbconfig.xml") || strings.Contains(err.Error(), "TopSecret9") {
			t.Errorf("%v", err)
		}
	})
	t.Run("H2 is refused clearly", func(t *testing.T) {
		c := strings.Replace(dbconfig("", "x"), "jdbc:postgresql://pg:5432/jira", "jdbc:h2:file:/var/atlassian/application-data/jira/database/h2db", 1)
		_, err := discoverContent(t, Jira, c, nil, "")
		if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "embedded evaluation database (H2)") {
			t.Errorf("%v", err)
		}
	})
}

func TestDiscoverDetails(t *testing.T) {
	t.Run("stray & read tolerantly with a warning", func(t *testing.T) {
		c := strings.Replace(hibernate("confluence-configuration", "", "pw"), "jdbc:postgresql://pg:5432/app",
			"jdbc:postgresql://pg:5432/app?sslmode=require&ApplicationName=conf&amp;x=1", 1)
		d := mustDiscover(t, Confluence, c, nil, "")
		if d.Database.Params["sslmode"] != "require" || !strings.Contains(strings.Join(d.Warnings, " "), "not well-formed") {
			t.Errorf("%+v %q", d.Database, d.Warnings)
		}
	})
	t.Run("database-type disagreeing with the URL is warned about", func(t *testing.T) {
		d := mustDiscover(t, Jira, strings.Replace(dbconfig("", "x"), "postgres72", "mysql8", 1), nil, "")
		if !strings.Contains(strings.Join(d.Warnings, " "), "using the URL") {
			t.Errorf("warnings %q", d.Warnings)
		}
	})
	t.Run("schema-name wins over currentSchema", func(t *testing.T) {
		c := strings.Replace(dbconfig("", "x"), "/jira<", "/jira?currentSchema=other<", 1)
		d := mustDiscover(t, Jira, c, nil, "")
		if d.Database.Schema != "public" || !strings.Contains(strings.Join(d.Warnings, " "), "currentSchema is other") {
			t.Errorf("schema %q warnings %q", d.Database.Schema, d.Warnings)
		}
	})
	t.Run("bitbucket and crowd: --home may be the shared home itself", func(t *testing.T) {
		for _, tc := range []struct {
			p       ProductID
			file, c string
		}{
			{Bitbucket, "bitbucket.properties", "jdbc.url=jdbc:postgresql://pg/bb\njdbc.user=bb\njdbc.password=pw\n"},
			{Crowd, "crowd.cfg.xml", hibernate("application-configuration", "", "pw")},
		} {
			home := t.TempDir()
			writeFile(t, filepath.Join(home, tc.file), tc.c)
			d, err := Discover(DiscoverOptions{Product: tc.p, Home: home})
			if err != nil || d.ConfigFile != filepath.Join(home, tc.file) || d.Database.Host != "pg" {
				t.Errorf("%s: %v %q %+v", tc.p, err, d.ConfigFile, d.Database)
			}
		}
	})
	t.Run("JNDI through a ResourceLink in context.xml", func(t *testing.T) {
		install := t.TempDir()
		writeFile(t, filepath.Join(install, "conf/server.xml"), `<Server><GlobalNamingResources>
<Resource name="GlobalJira" type="javax.sql.DataSource" driverClassName="com.microsoft.sqlserver.jdbc.SQLServerDriver"
 url="jdbc:sqlserver://sql1:1433;databaseName=jira" username="jira" password="pw"/></GlobalNamingResources></Server>`)
		writeFile(t, filepath.Join(install, "conf/context.xml"), `<Context><ResourceLink name="jdbc/JiraDS" global="GlobalJira" type="javax.sql.DataSource"/></Context>`)
		c := `<jira-database-config><database-type>mssql</database-type><schema-name>dbo</schema-name>
<jndi-datasource><jndi-name>java:comp/env/jdbc/JiraDS</jndi-name></jndi-datasource></jira-database-config>`
		d := mustDiscover(t, Jira, c, nil, install)
		want{engine: reauth.SQLServer, host: "sql1", port: 1433, name: "jira", schema: "dbo", user: "jira"}.check(t, d.Database)
	})
	t.Run("JNDI resource missing", func(t *testing.T) {
		install := t.TempDir()
		writeFile(t, filepath.Join(install, "conf/server.xml"), `<Server/>`)
		c := `<jira-database-config><jndi-datasource><jndi-name>java:comp/env/jdbc/JiraDS</jndi-name></jndi-datasource></jira-database-config>`
		_, err := discoverContent(t, Jira, c, nil, install)
		if err == nil || !strings.Contains(err.Error(), `no <Resource name="jdbc/JiraDS">`) || !strings.Contains(err.Error(), "context.xml") {
			t.Errorf("%v", err)
		}
	})
	t.Run("confluence datasource property is JNDI too", func(t *testing.T) {
		c := `<confluence-configuration><properties><property name="hibernate.connection.datasource">java:comp/env/jdbc/confluence</property></properties></confluence-configuration>`
		_, err := discoverContent(t, Confluence, c, nil, "")
		if err == nil || !strings.Contains(err.Error(), "JNDI datasource java:comp/env/jdbc/confluence") {
			t.Errorf("%v", err)
		}
	})
	t.Run("seraph-config.xml missing falls back to the default with a warning", func(t *testing.T) {
		d := mustDiscover(t, Jira, dbconfig("", "x"), nil, t.TempDir())
		if d.RememberMeCookie != "seraph.rememberme.cookie" || !strings.Contains(strings.Join(d.Warnings, " "), "seraph-config.xml") {
			t.Errorf("%q %q", d.RememberMeCookie, d.Warnings)
		}
	})
}

func TestFisheyeConfig(t *testing.T) {
	tests := []struct {
		name, content string
		want          want
	}{
		{"attributes on a child", `<config control-bind="127.0.0.1:8059" version="1.0"><database type="postgresql">
<connection dialect="org.hibernate.dialect.PostgreSQLDialect" driver="org.postgresql.Driver" driverSource="bundled"
 jdbcurl="jdbc:postgresql://fedb:5432/crucible" maxPoolSize="20" minPoolSize="5" password="fepw" username="crucible"/>
</database></config>`, want{engine: reauth.Postgres, host: "fedb", port: 5432, name: "crucible", user: "crucible"}},
		{"child elements", `<config><database><url>jdbc:mysql://my:3306/fecru</url><username>fe</username><password>fepw</password></database></config>`,
			want{engine: reauth.MySQL, host: "my", port: 3306, name: "fecru", user: "fe"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustDiscover(t, Fisheye, tt.content, nil, "")
			tt.want.check(t, d.Database)
			if d.Database.Password.Reveal() != "fepw" {
				t.Errorf("password not read")
			}
		})
	}
	_, err := discoverContent(t, Fisheye, `<config><repository name="r"/></config>`, nil, "")
	if err == nil || !strings.Contains(err.Error(), "HSQLDB") || !strings.Contains(reauth.HintOf(err), "--jdbc-url") {
		t.Errorf("no <database>: %v", err)
	}
}
