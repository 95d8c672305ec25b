package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth"
)

// writeFiles writes name → content under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func product(id, home string) string {
	return "  - product: " + id + "\n    home: " + home + "\n    nodes:\n      - {name: n1, url: http://127.0.0.1:8080, restart: {exec: {command: x}}}\n"
}

func dbProduct(id, jdbcURL string) string {
	return "  - product: " + id + "\n    database: {jdbc_url: '" + jdbcURL + "', user: u, password_env: PW}\n" +
		"    nodes:\n      - {name: n1, url: http://127.0.0.1:8080, restart: {exec: {command: x}}}\n"
}

// Several files and include: every file's products, each keeping its own file (relative paths,
// defaults); the run-wide settings are the first file's, with the smallest parallel; a product
// id in two files is named id@file.
func TestLoadAllMergesFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"estate.yaml":          "defaults: {audit_log: audit.jsonl, parallel: 4}\ninclude: [emea/reauth.yaml]\n",
		"emea/reauth.yaml":     "defaults: {backup_dir: bk, start_timeout: 5m, parallel: 2}\ninclude: [../apac.yaml]\nproducts:\n" + product("jira", "homes/jira") + product("confluence", "homes/conf"),
		"apac.yaml":            "defaults: {audit_log: audit.jsonl}\nproducts:\n" + product("jira", "homes/jira"),
		"emea/homes/jira/.x":   "",
		"emea/homes/conf/.x":   "",
		"homes/jira/.x":        "",
		"unrelated/other.yaml": "",
	})
	inv, err := LoadAll([]string{filepath.Join(dir, "estate.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Products) != 3 || len(inv.Files) != 3 {
		t.Fatalf("%d products from %d files", len(inv.Products), len(inv.Files))
	}
	var names []string
	for i := range inv.Products {
		names = append(names, inv.Products[i].Label())
	}
	if strings.Join(names, " ") != "jira@reauth confluence jira@apac" {
		t.Errorf("names %v", names)
	}
	if inv.Defaults.Parallel != 2 || inv.Resolve(inv.Defaults.AuditLog) != filepath.Join(dir, "audit.jsonl") {
		t.Errorf("run-wide defaults %+v", inv.Defaults)
	}
	emea := inv.FileOf(&inv.Products[0])
	if emea.Resolve(inv.Products[0].Home) != filepath.Join(dir, "emea/homes/jira") || emea.Resolve(emea.Defaults.BackupDir) != filepath.Join(dir, "emea/bk") || emea.Defaults.StartTimeout == 0 {
		t.Errorf("emea's jira does not keep its own file: %s %+v", emea.Path, emea.Defaults)
	}
	if apac := inv.FileOf(&inv.Products[2]); apac.Resolve(inv.Products[2].Home) != filepath.Join(dir, "homes/jira") {
		t.Errorf("apac's jira home %s", apac.Resolve(inv.Products[2].Home))
	}
	if p, err := inv.Product("confluence"); err != nil || p.Label() != "confluence" {
		t.Errorf("--product confluence: %v", err)
	}
	if p, err := inv.Product("jira@apac"); err != nil || p != &inv.Products[2] {
		t.Errorf("--product jira@apac: %v", err)
	}
	if _, err := inv.Product("jira"); err == nil || !strings.Contains(reauth.HintOf(err), "jira@reauth, jira@apac") {
		t.Errorf("--product jira with two: %v (%s)", err, reauth.HintOf(err))
	}
	// A file given with --config and included by another is read twice: refused.
	if _, err := LoadAll([]string{filepath.Join(dir, "apac.yaml"), filepath.Join(dir, "emea/reauth.yaml")}); err == nil || !strings.Contains(err.Error(), "read twice") {
		t.Errorf("apac given and included by emea: %v", err)
	}
	// Two --config files: both files' products.
	two, err := LoadAll([]string{filepath.Join(dir, "apac.yaml"), filepath.Join(dir, "estate.yaml")})
	if err == nil {
		t.Errorf("apac given and included through estate: %d products", len(two.Products))
	}
}

// Include cycles, a file read twice, one product home listed twice and two audit logs are
// refused with the files named.
func TestLoadAllRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		args  []string
		want  []string
	}{
		{"cycle", map[string]string{
			"a.yaml": "include: [b.yaml]\nproducts:\n" + product("jira", "/j"),
			"b.yaml": "include: [a.yaml]\nproducts:\n" + product("confluence", "/c"),
		}, []string{"a.yaml"}, []string{"include cycle", "a.yaml → ", "b.yaml → ", "a.yaml"}},
		{"self", map[string]string{
			"a.yaml": "include: [./a.yaml]\nproducts:\n" + product("jira", "/j"),
		}, []string{"a.yaml"}, []string{"include cycle"}},
		{"twice", map[string]string{
			"a.yaml": "products:\n" + product("jira", "/j"),
		}, []string{"a.yaml", "a.yaml"}, []string{"read twice", "--config"}},
		{"included twice", map[string]string{
			"a.yaml": "include: [b.yaml, c.yaml]\n",
			"b.yaml": "include: [c.yaml]\nproducts:\n" + product("jira", "/j"),
			"c.yaml": "products:\n" + product("confluence", "/c"),
		}, []string{"a.yaml"}, []string{"read twice", "b.yaml:1", "a.yaml:1"}},
		{"same home", map[string]string{
			"a.yaml": "products:\n" + product("jira", "/srv/jira"),
			"b.yaml": "products:\n" + product("jira", "/srv/jira/"),
		}, []string{"a.yaml", "b.yaml"}, []string{"product home /srv/jira is listed twice", "a.yaml:2", "b.yaml:2"}},
		{"same home in one file", map[string]string{
			"a.yaml": "products:\n" + product("jira", "/srv/x") + product("confluence", "/srv/x"),
		}, []string{"a.yaml"}, []string{"listed twice", "jira", "confluence"}},
		{"one database, two spellings", map[string]string{
			"a.yaml": "products:\n" + dbProduct("jira", "jdbc:postgresql://127.0.0.1/jira"),
			"b.yaml": "products:\n" + dbProduct("jira", "jdbc:postgresql://LOCALHOST:5432/jira"),
		}, []string{"a.yaml", "b.yaml"}, []string{"jira database is listed twice", "a.yaml:2", "b.yaml:2",
			"jdbc:postgresql://127.0.0.1/jira", "jdbc:postgresql://LOCALHOST:5432/jira", "run lock"}},
		{"mysql and mariadb spellings", map[string]string{
			"a.yaml": "products:\n" + dbProduct("confluence", "jdbc:mysql://[::1]:3306/conf?useUnicode=true"),
			"b.yaml": "products:\n" + dbProduct("confluence", "jdbc:mariadb://localhost/conf"),
		}, []string{"a.yaml", "b.yaml"}, []string{"confluence database is listed twice", "jdbc:mariadb://localhost/conf"}},
		{"two audit logs", map[string]string{
			"a.yaml": "defaults: {audit_log: one.jsonl}\nproducts:\n" + product("jira", "/j"),
			"b.yaml": "defaults: {audit_log: two.jsonl}\nproducts:\n" + product("confluence", "/c"),
		}, []string{"a.yaml", "b.yaml"}, []string{"one audit log", "two.jsonl", "one.jsonl"}},
		{"missing include", map[string]string{
			"a.yaml": "include: [nope.yaml]\nproducts:\n" + product("jira", "/j"),
		}, []string{"a.yaml"}, []string{"nope.yaml"}},
		{"no products anywhere", map[string]string{
			"a.yaml": "include: [b.yaml]\n",
			"b.yaml": "include: []\n",
		}, []string{"a.yaml"}, []string{"no products"}},
		{"bad parallel", map[string]string{
			"a.yaml": "defaults: {parallel: 0}\nproducts:\n" + product("jira", "/j"),
		}, []string{"a.yaml"}, []string{"parallel", "at least 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			var paths []string
			for _, a := range tc.args {
				paths = append(paths, filepath.Join(dir, a))
			}
			_, err := LoadAll(paths)
			if err == nil {
				t.Fatal("accepted")
			}
			if reauth.CodeOf(err) != reauth.ExitUsage || reauth.HintOf(err) == "" {
				t.Errorf("exit %d, hint %q", reauth.CodeOf(err), reauth.HintOf(err))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error()+reauth.HintOf(err), w) {
					t.Errorf("error does not say %q: %v", w, err)
				}
			}
		})
	}
}

// Two databases on one server, or one database name on two servers, are two databases.
func TestLoadAllKeepsDistinctDatabases(t *testing.T) {
	dir := t.TempDir()
	urls := []string{"jdbc:postgresql://127.0.0.1/jira", "jdbc:postgresql://127.0.0.1/jira2",
		"jdbc:postgresql://db2/jira", "jdbc:postgresql://127.0.0.1:5433/jira"}
	files, paths := map[string]string{}, []string(nil)
	for i, u := range urls {
		name := fmt.Sprintf("%d.yaml", i)
		files[name] = "products:\n" + dbProduct("jira", u)
		paths = append(paths, filepath.Join(dir, name))
	}
	writeFiles(t, dir, files)
	inv, err := LoadAll(paths)
	if err != nil || len(inv.Products) != 4 {
		t.Fatalf("four databases: got %v", err)
	}
}
