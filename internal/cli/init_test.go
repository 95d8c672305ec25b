package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/inventory"
)

// TestRenderInitParses: what init writes is an inventory the parser takes, for nodes found, for
// none found (a placeholder to check), for a StatefulSet, and with hostile text in what it read
// (a node name with quotes, an error with a line break) kept inside strings and comments.
func TestRenderInitParses(t *testing.T) {
	jira, _ := atlassian.Lookup("jira")
	bb, _ := atlassian.Lookup("bitbucket")
	for name, f := range map[string]initFindings{
		"nodes": {Product: jira, Home: "/var/jira", Database: "postgres db:5432/jira",
			Nodes: []initNode{{Name: "node-a", Host: "10.0.0.11", State: "ACTIVE"}, {Name: "b\"\n  evil: 1", Host: "10.0.0.12", State: "OFF\nLINE"}}},
		"none":      {Product: jira, Home: "/var/jira", NotFound: []string{"the nodes: error\nproducts: []"}},
		"kube":      {Product: jira, Home: "/var/jira", Kube: &initKube{Namespace: "atlassian", StatefulSet: "jira"}},
		"hazelcast": {Product: bb, Home: "/var/bb", Hazelcast: "replicated (/var/bb/shared/bitbucket.properties)"},
	} {
		text := renderInit(f)
		inv, err := inventory.Parse(text, "reauth.yaml")
		if err != nil {
			t.Errorf("%s: %v\n%s", name, err, text)
			continue
		}
		p := inv.Products[0]
		switch name {
		case "nodes":
			if len(p.Nodes) != 2 || p.Nodes[0].URL != "http://10.0.0.11:8080" || p.Nodes[1].Name != "b\"\n  evil: 1" || p.Nodes[0].Restart.SSH == nil {
				t.Errorf("nodes: %+v", p.Nodes)
			}
		case "kube":
			if p.Kubernetes == nil || p.Kubernetes.StatefulSet != "jira" || p.Kubernetes.Namespace != "atlassian" {
				t.Errorf("kube: %+v", p.Kubernetes)
			}
		case "none":
			if len(p.Nodes) != 1 || !strings.Contains(string(text), "# NOT FOUND: the nodes: error products: []") {
				t.Errorf("none:\n%s", text)
			}
		case "hazelcast":
			if !strings.Contains(string(text), "# Bitbucket hazelcast.http.sessions: replicated") {
				t.Errorf("hazelcast not shown up front:\n%s", text)
			}
		}
	}
}

// TestInitFromJiraHome: init on a Jira home whose database (a real PostgreSQL) has a
// clusternode table writes those nodes, 0600, in a file that loads (an address that cannot go
// into a URL becomes a placeholder, said); it never overwrites.
func TestInitFromJiraHome(t *testing.T) {
	x := jiraDB(t, 1)
	if _, err := x.SQL.Exec(`CREATE TABLE clusternode (node_id varchar(60) PRIMARY KEY, node_state varchar(60), ip varchar(60));
		INSERT INTO clusternode VALUES ('node2', 'ACTIVE', '10.0.0.12'), ('node1', 'ACTIVE', '10.0.0.11'), ('node3', 'OFFLINE', '10.0.0.13'), ('node4', 'ACTIVE', 'u:p@evil/x')`); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	cfg := `<?xml version="1.0" encoding="UTF-8"?>
<jira-database-config><name>defaultDS</name><delegator-name>default</delegator-name><database-type>postgres72</database-type>
<schema-name>public</schema-name><jdbc-datasource><url>` + x.JDBC + `</url><driver-class>org.postgresql.Driver</driver-class>
<username>` + x.User + `</username><password>` + x.Pass + `</password></jdbc-datasource></jira-database-config>`
	if err := os.WriteFile(filepath.Join(home, "dbconfig.xml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "reauth.yaml")
	code, stdout, errs := runCLI(t, nil, "init", "--product", "jira", "--home", home, "-o", out)
	if code != 0 {
		t.Fatalf("init: exit %d\n%s%s", code, stdout, errs)
	}
	inv, err := inventory.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range inv.Products[0].Nodes {
		names = append(names, n.Name+"="+n.URL)
	}
	if got := strings.Join(names, " "); got != "node1=http://10.0.0.11:8080 node2=http://10.0.0.12:8080 node3=http://10.0.0.13:8080 node4=http://127.0.0.1:8080" {
		t.Errorf("nodes %s", got)
	}
	text, _ := os.ReadFile(out)
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 || strings.Contains(string(text)+stdout+errs, x.Pass) || !strings.Contains(string(text), "clusternode state: OFFLINE") ||
		!strings.Contains(string(text), `# NOT FOUND: node "node4": its address`) {
		t.Errorf("mode %v, or the password or node state wrong:\n%s", fi.Mode().Perm(), text)
	}
	if code, _, errs := runCLI(t, nil, "init", "--product", "jira", "--home", home, "-o", out); code != 4 || !strings.Contains(errs, "never overwrites") {
		t.Errorf("second init: exit %d %s", code, errs)
	}
}

// TestInitFromConfluenceHome: Confluence's nodes come from its cluster settings (TCP/IP
// discovery's peers in confluence.cfg.xml), without touching its database.
func TestInitFromConfluenceHome(t *testing.T) {
	home := t.TempDir()
	cfg := `<?xml version="1.0" encoding="UTF-8"?>
<confluence-configuration><properties>
<property name="hibernate.connection.url">jdbc:postgresql://127.0.0.1:9/confluence</property>
<property name="hibernate.connection.username">confluence</property>
<property name="hibernate.connection.password">pw</property>
<property name="confluence.cluster.join.type">tcp_ip</property>
<property name="confluence.cluster.peers">10.0.1.1, 10.0.1.2</property>
</properties></confluence-configuration>`
	if err := os.WriteFile(filepath.Join(home, "confluence.cfg.xml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "reauth.yaml")
	t.Chdir(filepath.Dir(home)) // a relative --home is written absolute: the inventory is elsewhere
	if code, stdout, errs := runCLI(t, nil, "init", "--product", "confluence", "--home", filepath.Base(home), "-o", out); code != 0 {
		t.Fatalf("init: exit %d\n%s%s", code, stdout, errs)
	}
	inv, err := inventory.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Products[0].Home != home {
		t.Errorf("home %q, want %q", inv.Products[0].Home, home)
	}
	if ns := inv.Products[0].Nodes; len(ns) != 2 || ns[0].URL != "http://10.0.1.1:8090" || ns[1].URL != "http://10.0.1.2:8090" {
		t.Errorf("nodes %+v", ns)
	}
}
