package sandbox

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/cookiefile"
	"github.com/reauth/reauth/internal/testenv"
)

// TestMain lets this test binary be a sandbox node process too (`<test binary> sandbox node
// --dir D --name N`): the package's tests then run real node processes without depending on the
// whole CLI building. internal/cli's tests cover the same through the real reauth binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "sandbox" && os.Args[2] == "node" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := NodeMain(ctx, os.Args[3:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// up starts a sandbox for a test and stops it at cleanup, checking that no node is left behind.
func up(t *testing.T, o Options) *Cluster {
	t.Helper()
	testenv.Slow(t)
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	o.Exe = exe
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := Up(ctx, o, testWriter{t})
	if err != nil {
		t.Fatalf("Up: %v", err)
	}
	t.Cleanup(func() {
		pids := nodePIDs(c)
		if err := c.Down(context.Background()); err != nil {
			t.Errorf("Down: %v", err)
		}
		for _, pid := range pids {
			if alive(pid) {
				stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
				cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				t.Errorf("pid %d still alive after Down: stat %q cmdline %q dir %q", pid, stat, cmd, c.Dir())
			}
		}
	})
	return c
}

func nodePIDs(c *Cluster) []int {
	var out []int
	for _, n := range c.Nodes() {
		if pid := readPID(c.Dir(), n.Name); pid != 0 {
			out = append(out, pid)
		}
	}
	return out
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// restart restarts a node and waits until it is RUNNING again.
func restart(t *testing.T, c *Cluster, name string) {
	t.Helper()
	ctx := context.Background()
	if err := c.RestartNode(ctx, name); err != nil {
		t.Fatalf("restart %s: %v", name, err)
	}
	if err := c.WaitRunning(ctx, 30*time.Second); err != nil {
		t.Fatalf("after restart of %s: %v", name, err)
	}
}

// openDB opens the sandbox's database directly, as an operator's SQL client would.
func openDB(t *testing.T, c *Cluster) (*sql.DB, dbTarget) {
	t.Helper()
	tg, err := c.st.target()
	if err != nil {
		t.Fatal(err)
	}
	db, err := tg.open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, tg
}

func countRows(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func whoami(t *testing.T, b *Browser, url string) string {
	t.Helper()
	name, ok, err := b.WhoAmI(context.Background(), url)
	if err != nil {
		t.Fatalf("WhoAmI at %s: %v", url, err)
	}
	if !ok {
		return ""
	}
	return name
}

func login(t *testing.T, p atlassian.ProductID, url, user string, remember bool) *Browser {
	t.Helper()
	b := NewBrowser()
	b.Product = p
	if err := b.Login(context.Background(), url, user, UserPassword, remember); err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return b
}

// onlyCookie returns a browser holding just the named cookie of b (e.g. a remember-me cookie
// without its session), as a browser has once its session cookie is gone.
func onlyCookie(b *Browser, name string) *Browser {
	var keep []cookiefile.Cookie
	for _, c := range b.Cookies() {
		if c.Name == name {
			keep = append(keep, c)
		}
	}
	out := newBrowser(keep)
	out.Product = b.Product
	return out
}

// get fetches url and returns the status code and body.
func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// dbQuerier is the part of *sql.DB the checks use.
type dbQuerier interface {
	QueryRow(query string, args ...any) *sql.Row
}

// engineOf finds the engine of a test database handle by its driver.
func engineOf(t *testing.T, db dbQuerier) reauth.Engine {
	t.Helper()
	if d, ok := db.(*sql.DB); ok {
		switch strings.ToLower(strings.TrimPrefix(fmtType(d.Driver()), "*")) {
		case "stdlib.driver":
			return reauth.Postgres
		case "mysql.mysqldriver":
			return reauth.MariaDB
		}
	}
	return reauth.SQLite
}

func fmtType(v any) string { return fmt.Sprintf("%T", v) }

// testDB returns a fresh database URL on the real server for engine ("" for SQLite).
func testDB(t testing.TB, engine string) string {
	t.Helper()
	switch engine {
	case "postgres":
		return testenv.Postgres(t).URL
	case "mariadb":
		d := testenv.MariaDB(t)
		return fmt.Sprintf("mysql://%s:%s@%s:%d/%s", d.User, d.Pass, d.Host, d.Port, d.Name)
	}
	return ""
}
