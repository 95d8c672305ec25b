package cli

import (
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// --connect-timeout bounds the connect of every verb that reaches a database: against a SQL
// Server "server" that accepts TCP and never answers (go-mssqldb used to wait forever), inspect
// and purge give up after it with exit 1 and a hint naming the flag; a zero or negative value is
// a usage error.
func TestConnectTimeoutFlag(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	url := "jdbc:sqlserver://127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) + ";databaseName=jira"
	env := map[string]string{"REAUTH_DB_PASSWORD": "pw-not-shown"}
	target := []string{"--product", "jira", "--jdbc-url", url, "--db-user", "jira", "--connect-timeout", "1s"}
	for _, verb := range [][]string{{"inspect"}, {"purge", "--dry-run"}} {
		t0 := time.Now()
		code, out, errs := storeCLI(t, env, false, "", append(append([]string{}, verb...), target...)...)
		took := time.Since(t0)
		if code != 1 || took > 5*time.Second || !strings.Contains(errs, "no answer within 1s") || !strings.Contains(errs, "--connect-timeout") ||
			strings.Contains(out+errs, "pw-not-shown") {
			t.Fatalf("%v: exit %d after %s\n%s%s", verb, code, took, out, errs)
		}
	}
	for _, bad := range []string{"0s", "-5s"} {
		if code, _, errs := storeCLI(t, env, false, "", "inspect", "--product", "jira", "--jdbc-url", url, "--connect-timeout", bad); code != 2 {
			t.Fatalf("--connect-timeout %s: exit %d\n%s", bad, code, errs)
		}
	}
}
