package sandbox

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

// TestUpSeedsTokens: `up` on each engine seeds the users, logs them in with the asked share of
// remember-me, gives rows monotonic ids, and refuses a database that already has the tables.
func TestUpSeedsTokens(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres", "mariadb"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			url := testDB(t, engine)
			c := up(t, Options{Product: atlassian.Jira, Nodes: 3, Users: 10, RememberFraction: 0.6, DB: url})
			db, _ := openDB(t, c)
			if n := countRows(t, db, "remembermetoken"); n != 6 {
				t.Errorf("%d remember-me rows, want 6 (60%% of 10)", n)
			}
			var lo, hi, n int
			if err := db.QueryRow("SELECT MIN(id), MAX(id), COUNT(DISTINCT id) FROM remembermetoken").Scan(&lo, &hi, &n); err != nil {
				t.Fatal(err)
			}
			if lo != 1 || hi != 6 || n != 6 {
				t.Errorf("ids %d..%d (%d distinct), want 1..6: concurrent inserts from 3 nodes must not collide", lo, hi, n)
			}
			for i := 1; i <= 10; i++ {
				if _, err := os.Stat(c.BrowserFile(i)); err != nil {
					t.Errorf("browser of %s not saved: %v", UserName(i), err)
				}
			}
			// A second sandbox on the same database is refused, nothing changed.
			if engine != "sqlite" {
				_, err := Up(context.Background(), Options{Dir: t.TempDir(), DB: url, Exe: "/bin/false"}, nil)
				if reauth.CodeOf(err) != reauth.ExitRefused {
					t.Errorf("Up on a database with the tables: %v (code %d), want a refusal", err, reauth.CodeOf(err))
				}
				if n := countRows(t, db, "remembermetoken"); n != 6 {
					t.Errorf("refused Up changed the table: %d rows", n)
				}
			}
			// Up into a directory that holds a sandbox is refused too.
			if _, err := Up(context.Background(), Options{Dir: c.Dir(), Exe: "/bin/false"}, nil); reauth.CodeOf(err) != reauth.ExitRefused {
				t.Errorf("second Up into %s: %v", c.Dir(), err)
			}
		})
	}
}

func TestDownLeavesNoProcess(t *testing.T) {
	exe, _ := os.Executable()
	c, err := Up(context.Background(), Options{Dir: t.TempDir(), Nodes: 2, Exe: exe}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pids := nodePIDs(c)
	if len(pids) != 2 {
		t.Fatalf("pids %v", pids)
	}
	c2, err := Open(c.Dir()) // as `reauth sandbox down` does, from the directory alone
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.Down(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("pid %d alive after Down", pid)
		}
	}
	st, _ := c2.Status(context.Background())
	for _, s := range st {
		if s.State != "DOWN" || s.PID != 0 {
			t.Errorf("status after down: %+v", s)
		}
	}
	if err := c2.Down(context.Background()); err != nil {
		t.Errorf("Down twice: %v", err)
	}
}

func TestInventoryShape(t *testing.T) {
	c := up(t, Options{Product: atlassian.Confluence, Nodes: 2})
	b, err := os.ReadFile(c.InventoryPath())
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true) // exactly the design's keys, nothing else
	var inv invFile
	if err := dec.Decode(&inv); err != nil {
		t.Fatalf("inventory does not parse strictly: %v\n%s", err, b)
	}
	if len(inv.Products) != 1 || inv.Products[0].Product != "confluence" || inv.Products[0].Home != c.Home() || len(inv.Products[0].Nodes) != 2 {
		t.Fatalf("inventory: %+v", inv)
	}
	for i, n := range inv.Products[0].Nodes {
		want := c.Nodes()[i]
		if n.Name != want.Name || n.URL != want.URL || n.Install != want.Dir {
			t.Errorf("node %d: %+v, want %+v", i, n, want)
		}
		if !strings.HasSuffix(n.Restart.Exec.Command, " sandbox restart-node --dir "+c.Dir()+" --node "+want.Name) {
			t.Errorf("restart command %q", n.Restart.Exec.Command)
		}
		if _, err := os.Stat(filepath.Join(n.Install, "conf", "server.xml")); err != nil {
			t.Errorf("install %s: %v", n.Install, err)
		}
	}
	var generic map[string]any
	yaml.Unmarshal(b, &generic)
	if len(generic) != 1 {
		t.Errorf("top-level keys: %v", generic)
	}
}

func TestHomeConfigFiles(t *testing.T) {
	pg := dbTarget{Engine: reauth.Postgres, Host: "127.0.0.1", Port: 5433, Name: "jira", User: "u", Password: "p&<w"}
	tests := []struct {
		product atlassian.ProductID
		t       dbTarget
		want    []string
	}{
		{atlassian.Jira, pg, []string{"<database-type>postgres72</database-type>", "<schema-name>public</schema-name>",
			"<url>jdbc:postgresql://127.0.0.1:5433/jira</url>", "<username>u</username>", "<password>p&amp;&lt;w</password>"}},
		{atlassian.Jira, dbTarget{Engine: reauth.SQLite, Name: "/d/s.db"}, []string{"<url>jdbc:sqlite:/d/s.db</url>"}},
		{atlassian.Confluence, dbTarget{Engine: reauth.MariaDB, Host: "h", Port: 3307, Name: "c", User: "u", Password: "pw"},
			[]string{"<confluence-configuration>", `<property name="hibernate.connection.url">jdbc:mariadb://h:3307/c</property>`, `<property name="hibernate.connection.password">pw</property>`}},
		{atlassian.Bamboo, pg, []string{"<application-configuration>", `name="hibernate.connection.username">u<`}},
		{atlassian.Bitbucket, dbTarget{Engine: reauth.Postgres, Host: "h", Port: 1, Name: "b", User: "u", Password: `a\b`},
			[]string{"jdbc.url=jdbc:postgresql://h:1/b\n", "jdbc.user=u\n", `jdbc.password=a\\b` + "\n", "jdbc.driver=org.postgresql.Driver\n"}},
		{atlassian.Fisheye, pg, []string{`<database type="postgresql">`, `jdbc-url="jdbc:postgresql://127.0.0.1:5433/jira"`, `password="p&amp;&lt;w"`}},
	}
	for _, tt := range tests {
		t.Run(string(tt.product)+"/"+string(tt.t.Engine), func(t *testing.T) {
			p, _ := atlassian.Lookup(string(tt.product))
			path, err := writeHome(t.TempDir(), p, tt.t, "9.1.0")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(path, filepath.FromSlash(p.ConfigFile)) {
				t.Errorf("written to %s, want .../%s", path, p.ConfigFile)
			}
			b, _ := os.ReadFile(path)
			for _, w := range tt.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("%s lacks %q:\n%s", p.ConfigFile, w, b)
				}
			}
			if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
				t.Errorf("mode %v: the file holds a password", st.Mode().Perm())
			}
		})
	}
}

func TestParseDBURL(t *testing.T) {
	tests := []struct {
		in      string
		want    dbTarget
		wantErr string
	}{
		{"", dbTarget{Engine: reauth.SQLite, Name: "/x.db"}, ""},
		{"sqlite:/a/b.db", dbTarget{Engine: reauth.SQLite, Name: "/a/b.db"}, ""},
		{"postgres://u:secret@127.0.0.1:5433/db?sslmode=disable", dbTarget{Engine: reauth.Postgres, Host: "127.0.0.1", Port: 5433, Name: "db", User: "u", Password: "secret"}, ""},
		{"mysql://u:secret@127.0.0.1/db", dbTarget{Engine: reauth.MariaDB, Host: "127.0.0.1", Port: 3306, Name: "db", User: "u", Password: "secret"}, ""},
		{"oracle://u:secret@h/db", dbTarget{}, "unsupported scheme"},
		{"postgres://u:secret@127.0.0.1:5433/", dbTarget{}, "needs a user, a host and a database name"},
		{"sqlite:rel.db", dbTarget{}, "absolute"},
	}
	for _, tt := range tests {
		got, err := parseDBURL(tt.in, "/x.db")
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "secret") {
				t.Errorf("%q: err %v, want %q and no password", tt.in, err, tt.wantErr)
			}
			if reauth.CodeOf(err) != reauth.ExitUsage {
				t.Errorf("%q: code %d, want usage", tt.in, reauth.CodeOf(err))
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	if r := redactURL("postgres://u:secret@h:1/d"); strings.Contains(r, "secret") || !strings.Contains(r, "u:***@h:1/d") {
		t.Errorf("redactURL = %q", r)
	}
}

func TestUpRejectsBadOptions(t *testing.T) {
	tests := []Options{
		{},
		{Dir: "x", Nodes: -1},
		{Dir: "x", RememberFraction: 2},
		{Dir: "x", Product: "crowd", CrowdSSO: []string{"http://127.0.0.1:1"}}, // Crowd does not trust itself
		{Dir: "x", Product: "bitbucket", CrowdSSO: []string{"http://127.0.0.1:1"}},
		{Dir: "x", CrowdSSO: []string{"http://crowd.example.com/"}},
		{Dir: "x", Product: "nope"},
		{Dir: "x", Version: "latest"},
	}
	for _, o := range tests {
		dir := t.TempDir()
		if o.Dir != "" {
			o.Dir = filepath.Join(dir, o.Dir)
		}
		_, err := Up(context.Background(), o, nil)
		if reauth.CodeOf(err) != reauth.ExitUsage {
			t.Errorf("%+v: %v (code %d), want a usage error", o, err, reauth.CodeOf(err))
		}
		if o.Dir != "" {
			if _, err := os.Stat(o.Dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%+v: bad options created %s", o, o.Dir)
			}
		}
	}
}

// Node ports come from below the kernel's ephemeral range, so that no outgoing connection can
// take a node's port while the node restarts; they are distinct and free.
func TestFreePortsBelowEphemeralRange(t *testing.T) {
	owner := t.TempDir()
	ports, err := freePorts(5, owner)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { releasePorts(owner, ports) })
	low, seen := ephemeralLow(), map[int]bool{}
	for _, p := range ports {
		if p >= low || p < 1024 || seen[p] {
			t.Fatalf("ports %v: want 5 distinct ports below %d", ports, low)
		}
		seen[p] = true
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Fatalf("port %d is not free: %v", p, err)
		}
		l.Close()
	}
}
