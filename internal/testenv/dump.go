package testenv

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// LoadDump pipes a real third-party dump from realcases/schema into db through the server's own
// client (psql / mariadb), after dropping what cannot apply here: the stray warning line some
// dumps start with, ownership and grants to roles that do not exist, \connect. Template
// placeholders {{postgresUser}} become db's user.
func LoadDump(t testing.TB, db *DB, file string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(Realcases(t), "schema", file))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first && strings.HasPrefix(line, "Warning:") {
			first = false
			continue
		}
		first = false
		if strings.Contains(line, " OWNER TO ") || strings.HasPrefix(line, `\connect`) ||
			strings.HasPrefix(line, "GRANT ") || strings.HasPrefix(line, "REVOKE ") {
			continue
		}
		b.WriteString(strings.ReplaceAll(line, "{{postgresUser}}", db.User))
		b.WriteByte('\n')
	}
	var cmd *exec.Cmd
	switch db.Engine {
	case "postgres":
		if _, err := exec.LookPath("psql"); err != nil {
			Missing(t, "the psql client")
		}
		cmd = exec.Command("psql", "-q", "-X", "-1", "-v", "ON_ERROR_STOP=1", "-d",
			fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", db.User, db.Pass, db.Host, db.Port, db.Name))
	case "mariadb":
		if _, err := exec.LookPath("mariadb"); err != nil {
			Missing(t, "the mariadb client")
		}
		cmd = exec.Command("mariadb", "--no-defaults", "-h", db.Host, "-P", fmt.Sprint(db.Port), "-u", db.User, "-p"+db.Pass, db.Name)
	default:
		t.Fatalf("LoadDump: unknown engine %q", db.Engine)
	}
	cmd.Stdin = &b
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("load %s: %v\n%s", file, err, out)
	}
}
