package atlassian

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Fuzz targets: any input must give a value or an error, never a panic. Seeds come from the real
// files under realcases when that directory exists (it is optional here, so that
// `go test -fuzz` also runs on a machine without it).

// realcaseSeeds returns the contents of realcases/configs files whose name matches pattern.
func realcaseSeeds(f *testing.F, pattern string) [][]byte {
	f.Helper()
	dir := os.Getenv("REAUTH_REALCASES")
	if dir == "" {
		wd, _ := os.Getwd()
		dir = filepath.Join(wd, "..", "..", "shared", "realcases")
	}
	re := regexp.MustCompile(pattern)
	var out [][]byte
	_ = filepath.WalkDir(filepath.Join(dir, "configs"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !re.MatchString(d.Name()) {
			return nil
		}
		if b, err := os.ReadFile(path); err == nil {
			out = append(out, b)
		}
		return nil
	})
	return out
}

var jdbcInText = regexp.MustCompile(`jdbc:[^\s<>"'{}]+`)

func FuzzParseJDBCURL(f *testing.F) {
	for _, s := range []string{
		"jdbc:postgresql://h:5432/db?currentSchema=s&sslmode=require", "jdbc:mysql://address=(protocol=tcp)(host=h)(port=3306)/db",
		`jdbc:sqlserver://h\INST:1433;databaseName={a;b};encrypt=true`, "jdbc:jtds:sqlserver://h:1433/db;instance=X",
		"jdbc:oracle:thin:@h:1521:SID", "jdbc:oracle:thin:@//h:1521/svc",
		"jdbc:oracle:thin:@(DESCRIPTION=(ADDRESS=(HOST=h)(PORT=1521))(CONNECT_DATA=(SERVICE_NAME=s)))",
		"jdbc:mariadb:sequential://a,b/db", "jdbc:h2:file:x", "jdbc:sqlite:/x", "jdbc:postgresql://[::1/db",
	} {
		f.Add(s)
	}
	for _, b := range realcaseSeeds(f, `.`) {
		for _, m := range jdbcInText.FindAllString(string(b), -1) {
			f.Add(strings.ReplaceAll(m, "&amp;", "&"))
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		db, notes, err := ParseJDBCURLNotes(s)
		if err != nil {
			return
		}
		_ = notes
		if db.Engine == "" {
			t.Fatalf("%q: no engine and no error", s)
		}
		if db.Port < 0 || db.Port > 65535 {
			t.Fatalf("%q: port %d", s, db.Port)
		}
	})
}

func FuzzProperties(f *testing.F) {
	for _, s := range []string{"a=b\n", "k\\\n  v", `k=\u00e9\uD83D\uDE00`, "! c\n# c\nk : v", `\u12`, "k=\\"} {
		f.Add([]byte(s))
	}
	for _, b := range realcaseSeeds(f, `\.properties`) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		props, err := ParseProperties(data)
		if err != nil {
			return
		}
		if _, err := readPropertiesConfig(data); err != nil {
			t.Fatalf("ParseProperties accepted what readPropertiesConfig refused: %v", err)
		}
		_ = props
	})
}

func FuzzDBConfig(f *testing.F) {
	f.Add([]byte(dbconfig("", "pw")))
	f.Add([]byte("<jira-database-config><jndi-datasource><jndi-name>x</jndi-name></jndi-datasource></jira-database-config>"))
	f.Add([]byte("<a>&b</a>"))
	for _, b := range realcaseSeeds(f, `dbconfig|configmaps`) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = readDBConfig(data)
	})
}

func FuzzHibernateXML(f *testing.F) {
	f.Add([]byte(hibernate("confluence-configuration", "", "pw")))
	for _, b := range realcaseSeeds(f, `cfg\.xml`) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = readHibernateXML(data)
		_, _ = seraphCookie(data)
	})
}

func FuzzFisheyeXML(f *testing.F) {
	f.Add([]byte(`<config><database type="postgresql"><connection jdbcurl="jdbc:postgresql://h/db" username="u" password="p"/></database></config>`))
	f.Add([]byte(`<config><database><url>jdbc:mysql://h/db</url></database></config>`))
	for _, b := range realcaseSeeds(f, `seraph|\.xml$`) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = readFisheyeXML(data)
	})
}
