package inventory

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

const full = `defaults: {start_timeout: 20m, poll_interval: 2s, stable_window: 10s, backup_dir: ., audit_log: ./reauth-audit.jsonl, purge_rest: 1.5}
products:
  - product: jira
    home: /var/atlassian/application-data/jira
    install: /opt/atlassian/jira
    exclude_users: [admin-breakglass, ops]
    canary: {user: reauth-canary, password_env: CANARY_PW}
    admin: {user: admin, password_env: X, token_file: tok.txt}
    mode: auto
    start_timeout: 30m
    drain: {before: "lb out $REAUTH_NODE", after: "lb in $REAUTH_NODE"}
    nodes:
      - name: node1
        url: http://10.0.0.11:8080
        install: /opt/atlassian/jira
        restart:
          exec: {command: "systemctl restart jira", timeout: 10m}
      - name: node2
        url: http://10.0.0.12:8080
        restart:
          ssh: {host: 10.0.0.12, port: 2222, user: ops, stop: "sudo systemctl stop jira", start: "sudo systemctl start jira",
                key_file: ~/.ssh/id_ed25519, known_hosts: ~/.ssh/known_hosts, agent: false, tty: true, connect_timeout: 5s, timeout: 10m}
  - product: confluence
    database: {jdbc_url: "jdbc:postgresql://db:5432/confluence", user: confluence, password_file: /run/secrets/db}
    kubernetes: {namespace: atlassian, statefulset: confluence, url_template: "http://{pod}.{service}:8090"}
`

func TestParseFull(t *testing.T) {
	inv, err := Parse([]byte(full), "reauth.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if inv.Defaults.StartTimeout != 20*time.Minute || inv.Defaults.PollInterval != 2*time.Second || inv.Defaults.StableWindow != 10*time.Second ||
		inv.Defaults.PurgeRest != 1.5 {
		t.Errorf("defaults = %+v", inv.Defaults)
	}
	if len(inv.Products) != 2 {
		t.Fatalf("products = %d", len(inv.Products))
	}
	j := inv.Products[0]
	if j.ID != "jira" || j.StartTimeout != 30*time.Minute || len(j.Nodes) != 2 || j.Drain.Before == "" {
		t.Errorf("jira = %+v", j)
	}
	if j.Canary.Password.Env != "CANARY_PW" || j.Admin.Token.File != "tok.txt" || len(j.ExcludeUsers) != 2 {
		t.Errorf("jira refs = %+v %+v", j.Canary, j.Admin)
	}
	n1, n2 := j.Nodes[0], j.Nodes[1]
	if n1.Restart.Exec == nil || n1.Restart.Exec.Command != "systemctl restart jira" || n1.Restart.Exec.Timeout != 10*time.Minute || n1.Line != 13 {
		t.Errorf("node1 = %+v (line %d)", n1.Restart.Exec, n1.Line)
	}
	s := n2.Restart.SSH
	if s == nil || s.Port != 2222 || s.Stop == "" || s.Start == "" || s.Agent == nil || *s.Agent || !s.TTY || s.ConnectTimeout != 5*time.Second {
		t.Errorf("node2 ssh = %+v", s)
	}
	c := inv.Products[1]
	if c.Kubernetes == nil || c.Kubernetes.StatefulSet != "confluence" || c.Database.Password.File != "/run/secrets/db" {
		t.Errorf("confluence = %+v", c)
	}
	if _, err := inv.Product("Confluence"); err != nil {
		t.Error(err)
	}
	if _, err := inv.Product("bamboo"); reauth.CodeOf(err) != reauth.ExitUsage || !strings.Contains(reauth.HintOf(err), "jira, confluence") {
		t.Errorf("missing product: %v", err)
	}
}

// The sandbox writes its reauth.yaml in exactly this shape.
func TestParseSandboxShape(t *testing.T) {
	src := "products:\n- product: jira\n  home: /tmp/sb/home\n  nodes:\n  - name: node1\n    url: http://127.0.0.1:40001\n    install: /tmp/sb/node1\n    restart:\n      exec:\n        command: /usr/bin/reauth sandbox restart-node --dir /tmp/sb node1\n"
	inv, err := Parse([]byte(src), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := inv.Products[0].Nodes[0].Restart.Exec.Command; !strings.Contains(got, "restart-node") {
		t.Errorf("command = %q", got)
	}
}

// TestParseCrowdKeys: app_token_rule overrides Crowd's application-token rule; sso marks an
// application that trusts Crowd SSO.
func TestParseCrowdKeys(t *testing.T) {
	n := "    nodes:\n      - name: n1\n        url: http://h:1\n        restart: {exec: {command: x}}\n"
	inv, err := Parse([]byte("products:\n  - product: crowd\n    app_token_rule: \"DIRECTORY_ID = -2\"\n"+n+
		"  - product: jira\n    sso: crowd\n"+n), "reauth.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if r := inv.Products[0].AppTokenRule; r != (atlassian.RowRule{Column: "DIRECTORY_ID", Equals: -2}) {
		t.Fatalf("app_token_rule %+v", r)
	}
	if inv.Products[1].SSO != "crowd" {
		t.Fatalf("sso %q", inv.Products[1].SSO)
	}
}

// restart.strategy and hazelcast_http_sessions reach the product.
func TestParseRestartStrategy(t *testing.T) {
	src := "products:\n  - product: bitbucket\n    restart: {strategy: full}\n    hazelcast_http_sessions: replicated\n" +
		"    nodes:\n      - name: n1\n        url: http://h:1\n        restart: {exec: {stop: a, start: b}}\n"
	inv, err := Parse([]byte(src), "reauth.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p := inv.Products[0]; p.RestartStrategy != "full" || p.HazelcastHTTPSessions != "replicated" {
		t.Fatalf("%+v", p)
	}
}

// restart.max_unavailable and min_serving reach the product; bad values are refused at their line.
func TestParseRestartWaves(t *testing.T) {
	nodes := "    nodes:\n      - name: n1\n        url: http://h:1\n        restart: {exec: {command: x}}\n"
	for src, want := range map[string]reauth.Unavailable{
		"    restart: {max_unavailable: 2, min_serving: 2}\n": {Count: 2},
		"    restart: {max_unavailable: \"34%\"}\n":           {Percent: 34},
	} {
		inv, err := Parse([]byte("products:\n  - product: jira\n"+src+nodes), "reauth.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if p := inv.Products[0]; p.MaxUnavailable != want || (want.Count == 2) != (p.MinServing == 2) {
			t.Errorf("%s: %+v %d", src, p.MaxUnavailable, p.MinServing)
		}
	}
	for src, msg := range map[string]string{
		"    restart:\n      max_unavailable: 0\n":    "restart.max_unavailable",
		"    restart:\n      max_unavailable: 120%\n": "1%..100%",
		"    restart:\n      min_serving: none\n":     "restart.min_serving",
	} {
		_, err := Parse([]byte("products:\n  - product: jira\n"+src+nodes), "reauth.yaml")
		if err == nil || !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), ":4") {
			t.Errorf("%s: %v", src, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	node := "  - product: jira\n    nodes:\n      - name: n1\n        url: http://h:1\n        restart: {exec: {command: x}}\n"
	cases := []struct {
		name, src, want string
		line            int
	}{
		{"unknown top key", "product: jira\n", `unknown key "product"`, 1},
		{"unknown product key", "products:\n  - product: jira\n    hme: /x\n" + node[len("  - product: jira\n"):], `unknown key "hme"`, 3},
		{"unknown node key", "products:\n  - product: jira\n    nodes:\n      - name: n1\n        url: http://h:1\n        adress: x\n        restart: {exec: {command: x}}\n", `unknown key "adress"`, 6},
		{"duplicate node", "products:\n" + node + "      - name: n1\n        url: http://h:2\n        restart: {exec: {command: y}}\n", `duplicate node name "n1"`, 7},
		{"node without url", "products:\n  - product: jira\n    nodes:\n      - name: n1\n        restart: {exec: {command: x}}\n", "has no url", 4},
		{"node without restart", "products:\n  - product: jira\n    nodes:\n      - name: n1\n        url: http://h:1\n", "no restart method", 4},
		{"both methods", "products:\n  - product: jira\n    nodes:\n      - name: n1\n        url: http://h:1\n        restart: {exec: {command: x}, ssh: {host: h, command: y}}\n", "exactly one method", 6},
		{"product without nodes", "products:\n  - product: jira\n    home: /x\n", "has no nodes", 2},
		{"unknown product", "products:\n  - product: jora\n    home: /x\n", `unknown product "jora"`, 2},
		{"inline password", "products:\n  - product: jira\n    database: {jdbc_url: x, user: u, password: hunter2}\n", `inline secret "password"`, 3},
		{"inline token", "products:\n  - product: jira\n    admin:\n      user: a\n      token: abc\n", `inline secret "token"`, 5},
		{"inline secret", "defaults:\n  secret: x\nproducts: []\n", `inline secret "secret"`, 2},
		{"bad duration", "defaults: {start_timeout: 20}\nproducts: []\n", "bad duration", 1},
		{"negative purge rest", "defaults:\n  purge_rest: -1\nproducts: []\n", "from 0 (no rest) to 20", 2},
		{"purge rest too long", "defaults: {purge_rest: 50}\nproducts: []\n", "bad rest", 1},
		{"purge rest not a number", "defaults: {purge_rest: half}\nproducts: []\n", "bad rest", 1},
		{"no products", "defaults: {}\n", "no products", 1},
		{"stop without start", "products:\n  - product: jira\n    nodes:\n      - name: n1\n        url: http://h:1\n        restart:\n          exec: {stop: x}\n", "stop and start go together", 7},
		{"bad url", "products:\n  - product: jira\n    nodes:\n      - name: n1\n        url: 10.0.0.1:8080\n        restart: {exec: {command: x}}\n", "bad url", 5},
		{"duplicate key", "products:\n  - product: jira\n    home: /a\n    home: /b\n", `key "home" appears twice`, 4},
		{"kube and nodes", "products:\n  - product: jira\n    kubernetes: {statefulset: j}\n    nodes:\n      - name: n1\n        url: http://h:1\n        restart: {exec: {command: x}}\n", "both kubernetes and nodes", 5},
		{"env and file", "products:\n  - product: jira\n    canary: {user: c, password_env: A, password_file: b}\n" + node[len("  - product: jira\n"):], "both password_env and password_file", 3},
		{"yaml syntax", "products: [\n", "fix the YAML", 0},
		{"credentials in a node url", "products:\n  - product: jira\n    nodes:\n      - name: n1\n        url: http://ops:hunter2@h:8080\n        restart: {exec: {command: x}}\n", "token_env", 5},
		{"credentials in a malformed node url", "products:\n  - product: jira\n    nodes:\n      - name: n1\n        url: ftp://ops:hunter2/x@h\n        restart: {exec: {command: x}}\n", "user name or password", 5},
		{"token in a node url's query", "products:\n  - product: jira\n    nodes:\n      - name: n1\n        url: http://h:8080/jira?token=hunter2\n        restart: {exec: {command: x}}\n", "query or fragment", 5},
		{"token in a bad node url's query", "products:\n  - product: jira\n    nodes:\n      - name: n1\n        url: 'h:8080#token=hunter2'\n        restart: {exec: {command: x}}\n", "token_env", 5},
		{"token in url_template's query", "products:\n  - product: jira\n    kubernetes: {statefulset: j, url_template: 'http://{pod}:8080/?token=hunter2'}\n", "query or fragment", 3},
		{"credentials in url_template", "products:\n  - product: jira\n    kubernetes: {statefulset: j, url_template: 'http://ops:hunter2@{pod}:8080'}\n", "token_env", 3},
		{"credentials in ssh host", "products:\n  - product: jira\n    nodes:\n      - name: n1\n        url: http://h:8080\n        restart: {ssh: {host: 'ops:hunter2@h', command: x}}\n", "user name or password", 6},
		{"password in jdbc_url", "products:\n  - product: jira\n    database:\n      jdbc_url: jdbc:postgresql://db/jira?user=u&password=hunter2\n" + node[len("  - product: jira\n"):], "password_env", 4},
		{"app_token_rule on jira", "products:\n  - product: jira\n    app_token_rule: directory_id = -1\n" + node[len("  - product: jira\n"):], "only Crowd", 3},
		{"app_token_rule as SQL", "products:\n  - product: crowd\n    app_token_rule: directory_id = -1 OR 1=1\n" + node[len("  - product: jira\n"):], "column = integer", 3},
		{"sso on crowd", "products:\n  - product: crowd\n    sso: crowd\n" + node[len("  - product: jira\n"):], "sso: crowd on an application", 3},
		{"unknown sso", "products:\n  - product: jira\n    sso: okta\n" + node[len("  - product: jira\n"):], "not a single sign-on", 3},
		{"unknown restart strategy", "products:\n  - product: jira\n    restart: {strategy: half}\n" + node[len("  - product: jira\n"):], "rolling", 3},
		{"hazelcast on jira", "products:\n  - product: jira\n    hazelcast_http_sessions: local\n" + node[len("  - product: jira\n"):], "Bitbucket setting", 3},
		{"unknown hazelcast mode", "products:\n  - product: bitbucket\n    hazelcast_http_sessions: shared\n" + node[len("  - product: jira\n"):], "local, sticky or replicated", 3},
		{"userinfo in jdbc_url", "products:\n  - product: jira\n    database:\n      jdbc_url: jdbc:mysql://u:hunter2@db/jira\n" + node[len("  - product: jira\n"):], "password_env", 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src), "reauth.yaml")
			if err == nil {
				t.Fatal("no error")
			}
			if reauth.CodeOf(err) != reauth.ExitUsage {
				t.Errorf("code = %d", reauth.CodeOf(err))
			}
			all := err.Error() + " hint: " + reauth.HintOf(err)
			if !strings.Contains(all, tc.want) {
				t.Errorf("error %q does not mention %q", all, tc.want)
			}
			if tc.line > 0 && !strings.Contains(err.Error(), "reauth.yaml:"+strconv.Itoa(tc.line)+":") {
				t.Errorf("error %q does not name line %d", err, tc.line)
			}
			if strings.Contains(all, "hunter2") || strings.Contains(all, "abc") {
				t.Errorf("error leaks the secret: %q", all)
			}
		})
	}
}

func TestSecretRefResolve(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("s3cret\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PW": "fromenv"}
	getenv := func(k string) string { return env[k] }
	cases := []struct {
		ref     SecretRef
		want    string
		wantErr string
	}{
		{SecretRef{Env: "PW"}, "fromenv", ""},
		{SecretRef{File: "pw", Dir: dir}, "s3cret", ""},
		{SecretRef{File: filepath.Join(dir, "pw")}, "s3cret", ""},
		{SecretRef{Env: "NOPE", Line: 7}, "", "line 7: environment variable NOPE"},
		{SecretRef{File: "missing", Dir: dir}, "", "read secret file"},
		{SecretRef{}, "", ""},
	}
	for _, tc := range cases {
		got, err := tc.ref.Resolve(getenv)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%+v: err = %v", tc.ref, err)
			}
			continue
		}
		if err != nil || got.Reveal() != tc.want {
			t.Errorf("%+v: got %q, %v", tc.ref, got.Reveal(), err)
		}
		if tc.want != "" && got.String() != "***" {
			t.Errorf("secret prints itself: %v", got)
		}
	}
}

func TestLoadResolvesRelativeFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "canary.pw"), []byte("cpw\n"), 0o600)
	src := "products:\n  - product: bamboo\n    canary: {user: c, password_file: canary.pw}\n    nodes:\n      - {name: b1, url: 'http://127.0.0.1:8085', restart: {exec: {command: 'true'}}}\n"
	path := filepath.Join(dir, "reauth.yaml")
	os.WriteFile(path, []byte(src), 0o600)
	inv, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := inv.Products[0].Canary.Password.Resolve(nil)
	if err != nil || s.Reveal() != "cpw" {
		t.Fatalf("resolve = %q, %v", s.Reveal(), err)
	}
	if inv.Dir != dir || inv.Resolve("x") != filepath.Join(dir, "x") {
		t.Errorf("dir = %q", inv.Dir)
	}
	if _, err := Load(filepath.Join(dir, "nope.yaml")); reauth.CodeOf(err) != reauth.ExitUsage {
		t.Errorf("missing file: %v", err)
	}
}
