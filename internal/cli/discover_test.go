package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/reauth/reauth/internal/testenv"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, IO{In: strings.NewReader(""), Out: &out, Err: &errb,
		Getenv: func(k string) string { return env[k] }})
	return code, out.String(), errb.String()
}

func writeHomeFile(t *testing.T, rel, content string) string {
	t.Helper()
	home := t.TempDir()
	path := filepath.Join(home, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestDiscoverRealConfigJSON(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(testenv.Realcases(t), "configs/jira/codeclou-archive+docker-atlassian-jira-data-center__dbconfig.xml"))
	if err != nil {
		t.Fatal(err)
	}
	home := writeHomeFile(t, "dbconfig.xml", string(src))
	code, out, stderr := runCLI(t, nil, "discover", "--product", "jira", "--home", home, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	if k := keys(got); !reflect.DeepEqual(k, []string{"config_file", "cookies", "database", "product", "token_table"}) {
		t.Errorf("top-level fields %v", k)
	}
	db := got["database"].(map[string]any)
	if k := keys(db); !reflect.DeepEqual(k, []string{"engine", "host", "instance", "name", "password_source", "port", "schema", "user"}) {
		t.Errorf("database fields %v", k)
	}
	want := map[string]any{"engine": "postgres", "host": "jira-cluster-840-db", "port": float64(5432), "name": "jira",
		"schema": "public", "user": "jira", "instance": "", "password_source": "config"}
	if !reflect.DeepEqual(db, want) {
		t.Errorf("database %v", db)
	}
	if got["product"] != "jira" || got["token_table"] != "remembermetoken" || got["config_file"] != filepath.Join(home, "dbconfig.xml") {
		t.Errorf("product/token_table/config_file: %v", got)
	}
	cookies := got["cookies"].(map[string]any)
	if cookies["session"] != "JSESSIONID" || cookies["remember_me"] != "seraph.rememberme.cookie" {
		t.Errorf("cookies %v", cookies)
	}
}

// TestDiscoverNeverPrintsPassword: neither the text nor the JSON output, nor warnings, carry the
// password (plain or base64-encoded), whichever way it was configured.
func TestDiscoverNeverPrintsPassword(t *testing.T) {
	const secret = "Sup3r-S3cret!"
	const b64 = "U3VwM3ItUzNjcmV0IQ==" // base64(secret)
	tests := []struct {
		name, product, rel, content string
		env                         map[string]string
	}{
		{"jira plain", "jira", "dbconfig.xml", `<jira-database-config><database-type>postgres72</database-type><jdbc-datasource>
<url>jdbc:postgresql://pg:5432/jira?sslmode=require&tcpKeepAlive=true</url><username>jira</username><password>` + secret + `</password>
</jdbc-datasource></jira-database-config>`, nil},
		{"confluence base64", "confluence", "confluence.cfg.xml", `<confluence-configuration><properties>
<property name="hibernate.connection.url">jdbc:postgresql://pg/conf</property><property name="hibernate.connection.username">c</property>
<property name="hibernate.connection.password">` + b64 + `</property>
<property name="jdbc.password.decrypter.classname">com.atlassian.db.config.password.ciphers.base64.Base64Cipher</property>
</properties></confluence-configuration>`, nil},
		{"bitbucket properties", "bitbucket", "shared/bitbucket.properties", "jdbc.url=jdbc:mysql://my:3306/bb?password=" + secret +
			"\njdbc.user=bb\njdbc.password=" + secret + "\n", nil},
		{"env only", "bamboo", "bamboo.cfg.xml", `<application-configuration><properties/></application-configuration>`,
			map[string]string{"ATL_JDBC_URL": "jdbc:postgresql://pg/bamboo", "ATL_JDBC_USER": "b", "ATL_JDBC_PASSWORD": secret}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := writeHomeFile(t, tt.rel, tt.content)
			for _, json := range []bool{false, true} {
				args := []string{"discover", "--product", tt.product, "--home", home}
				if json {
					args = append(args, "--json")
				}
				code, out, stderr := runCLI(t, tt.env, args...)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				for _, s := range []string{secret, b64} {
					if strings.Contains(out, s) || strings.Contains(stderr, s) {
						t.Errorf("json=%v: output shows the password:\n%s\n%s", json, out, stderr)
					}
				}
				if !json && !strings.Contains(out, "password:     from ") {
					t.Errorf("text output does not say where the password comes from:\n%s", out)
				}
			}
		})
	}
}

func TestDiscoverTextAndWarnings(t *testing.T) {
	home := t.TempDir()
	install := t.TempDir()
	seraph := filepath.Join(install, "atlassian-jira/WEB-INF/classes/seraph-config.xml")
	if err := os.MkdirAll(filepath.Dir(seraph), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(seraph, []byte(`<security-config><parameters><init-param><param-name>login.cookie.key</param-name>
<param-value>acme.remember</param-value></init-param></parameters></security-config>`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ATL_JDBC_URL": `jdbc:sqlserver://sql1\PROD;databaseName=jira`, "ATL_JDBC_USER": "jira", "ATL_DB_SCHEMA_NAME": "dbo"}
	code, out, stderr := runCLI(t, env, "discover", "--product", "jira", "--home", home, "--install", install)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, s := range []string{"product:      Jira", "(environment variables)", `sqlserver sql1\PROD/jira`, "schema:       dbo",
		"password:     none configured", "token table:  remembermetoken", "remember-me acme.remember"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	for _, s := range []string{"warning: no dbconfig.xml", "SQL Server Browser", "acme.remember"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, stderr)
		}
	}
}

func TestDiscoverExitCodes(t *testing.T) {
	empty := t.TempDir()
	noDB := writeHomeFile(t, "shared/bitbucket.properties", "server.port=7990\n")
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"unknown product", []string{"discover", "--product", "gitlab", "--home", empty}, 2, "unknown product"},
		{"no home flag", []string{"discover", "--product", "jira"}, 2, "--home are required"},
		{"stray argument", []string{"discover", "--product", "jira", "--home", empty, "extra"}, 2, "expected 0 argument"},
		{"missing home", []string{"discover", "--product", "jira", "--home", filepath.Join(empty, "nope")}, 4, "hint: pass --home DIR"},
		{"empty home", []string{"discover", "--product", "confluence", "--home", empty}, 4, "confluence.cfg.xml not found"},
		{"no database settings", []string{"discover", "--product", "bitbucket", "--home", noDB, "--json"}, 4, "bitbucket.properties has no database settings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, nil, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, tt.code, stderr, tt.stderr)
			}
			wantJSON := slices.Contains(tt.args, "--json")
			switch {
			case !wantJSON && out != "":
				t.Errorf("stdout not empty on error: %q", out)
			case wantJSON:
				// --json: exactly one JSON object, saying what went wrong.
				var m struct {
					Error    string `json:"error"`
					ExitCode int    `json:"exit_code"`
				}
				if err := json.Unmarshal([]byte(out), &m); err != nil || m.ExitCode != tt.code || !strings.Contains(m.Error, "no database settings") {
					t.Errorf("stdout on error with --json: %q (%v)", out, err)
				}
			}
		})
	}
	// The no-database refusal says what to do.
	_, _, stderr := runCLI(t, nil, "discover", "--product", "bitbucket", "--home", noDB)
	if !strings.Contains(stderr, "hint: pass --jdbc-url URL and --db-user USER, or set JDBC_URL") {
		t.Errorf("hint missing: %s", stderr)
	}
}
