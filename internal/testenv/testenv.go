// Package testenv gives tests the real servers and files they need: fresh PostgreSQL and MariaDB
// databases, the loopback sshd, the realcases directory, and a built reauth binary.
//
// Servers are found through REAUTH_TEST_* environment variables, or the env file that
// .ci/services.sh writes ($REAUTH_SVC_DIR/env, default /tmp/reauth-ci/env). A test that needs a
// server that is missing fails when CI is set, and is skipped (naming what is missing) otherwise.
package testenv

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

var (
	envOnce sync.Once
	envFile map[string]string
)

// Getenv returns a REAUTH_TEST_* setting from the environment or the services env file.
func Getenv(key string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	envOnce.Do(loadEnvFile)
	return envFile[key]
}

func loadEnvFile() {
	envFile = map[string]string{}
	dir := os.Getenv("REAUTH_SVC_DIR")
	if dir == "" {
		dir = "/tmp/reauth-ci"
	}
	f, err := os.Open(filepath.Join(dir, "env"))
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		envFile[k] = strings.Trim(v, `'"`)
	}
}

// Need returns the setting key, or fails (in CI) / skips (elsewhere) the test naming what is missing.
func Need(t testing.TB, key, what string) string {
	t.Helper()
	v := Getenv(key)
	if v == "" {
		Missing(t, fmt.Sprintf("%s (set %s, or run .ci/services.sh)", what, key))
	}
	return v
}

// Slow marks a test that needs a real server or real processes: `go test -short` skips it
// outside CI, for a fast inner loop (CI never skips it). Every helper here that hands out a real
// server or builds the binary calls it, so such tests are marked by what they use.
func Slow(t testing.TB) {
	t.Helper()
	if testing.Short() && os.Getenv("CI") == "" {
		t.Skip("slow (real servers or processes): skipped by -short; run without -short, as CI does")
	}
}

// Missing fails the test in CI and skips it elsewhere.
func Missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("required for this test and missing in CI: %s", what)
	}
	t.Skipf("skipped: missing %s", what)
}

func randName(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// DB is a fresh, empty database on a real server, dropped when the test ends.
type DB struct {
	Engine string // "postgres" or "mariadb"
	Name   string
	URL    string // postgres:// URL, or go-sql-driver DSN
	JDBC   string // the same database as a JDBC URL
	User   string
	Pass   string
	Host   string
	Port   int
	SQL    *sql.DB
}

// Postgres creates a fresh database on the test PostgreSQL server.
func Postgres(t testing.TB) *DB {
	t.Helper()
	Slow(t)
	base := Need(t, "REAUTH_TEST_PG_URL", "a PostgreSQL server")
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := randName("t_")
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	u := strings.Replace(base, "/reauth?", "/"+name+"?", 1)
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		a, err := sql.Open("pgx", base)
		if err == nil {
			_, _ = a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			a.Close()
		}
	})
	host, port := "127.0.0.1", 5433
	fmt.Sscanf(afterAt(base), "127.0.0.1:%d", &port)
	return &DB{Engine: "postgres", Name: name, URL: u, User: "reauth", Pass: "reauthpw", Host: host, Port: port,
		JDBC: fmt.Sprintf("jdbc:postgresql://%s:%d/%s", host, port, name), SQL: db}
}

func afterAt(u string) string {
	if i := strings.LastIndex(u, "@"); i >= 0 {
		return u[i+1:]
	}
	return u
}

// MariaDB creates a fresh database on the test MariaDB server.
func MariaDB(t testing.TB) *DB {
	t.Helper()
	Slow(t)
	base := Need(t, "REAUTH_TEST_MYSQL_URL", "a MariaDB server")
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("REAUTH_TEST_MYSQL_URL: %v", err)
	}
	cfg.MultiStatements = true
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := randName("t_")
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	cfg.DBName = name
	cfg.ParseTime = true
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		a, err := sql.Open("mysql", base)
		if err == nil {
			_, _ = a.Exec("DROP DATABASE IF EXISTS " + name)
			a.Close()
		}
	})
	host, port := "127.0.0.1", 3307
	fmt.Sscanf(cfg.Addr, "127.0.0.1:%d", &port)
	return &DB{Engine: "mariadb", Name: name, URL: cfg.FormatDSN(), User: cfg.User, Pass: cfg.Passwd, Host: host, Port: port,
		JDBC: fmt.Sprintf("jdbc:mariadb://%s:%d/%s", host, port, name), SQL: db}
}

// SSH is the loopback sshd of .ci/services.sh.
type SSH struct {
	Addr, User, KeyFile, KnownHosts, HostKeyPub string
}

// SSHServer returns the test sshd's coordinates.
func SSHServer(t testing.TB) SSH {
	t.Helper()
	Slow(t)
	return SSH{
		Addr:       Need(t, "REAUTH_TEST_SSH_ADDR", "a loopback sshd"),
		User:       Need(t, "REAUTH_TEST_SSH_USER", "the sshd user"),
		KeyFile:    Need(t, "REAUTH_TEST_SSH_KEY", "the sshd client key"),
		KnownHosts: Need(t, "REAUTH_TEST_SSH_KNOWN_HOSTS", "the sshd known_hosts file"),
		HostKeyPub: Getenv("REAUTH_TEST_SSH_HOSTKEY_PUB"),
	}
}

// ModuleRoot is the directory holding go.mod.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Realcases is ../shared/realcases beside the project (or $REAUTH_REALCASES).
func Realcases(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("REAUTH_REALCASES")
	if dir == "" {
		dir = filepath.Join(ModuleRoot(t), "..", "shared", "realcases")
	}
	if _, err := os.Stat(dir); err != nil {
		Missing(t, "../shared/realcases (the real third-party test files)")
	}
	return dir
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary builds ./cmd/reauth once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	Slow(t)
	binOnce.Do(func() {
		removeStaleBinaries()
		dir, err := os.MkdirTemp("", fmt.Sprintf("reauth-bin-%d-", os.Getpid()))
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "reauth")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/reauth")
		cmd.Dir = ModuleRoot(t)
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build ./cmd/reauth: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// Reauth runs the binary Binary builds with args, in the test's environment plus env, for at
// most five minutes; it returns stdout, stderr and the exit code.
func Reauth(t testing.TB, env []string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	return Output(t, cmd)
}

// Output runs cmd and returns its stdout, stderr and exit code; a command that cannot be run
// at all fails the test.
func Output(t testing.TB, cmd *exec.Cmd) (string, string, int) {
	t.Helper()
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", filepath.Base(cmd.Path), err)
	}
	return out.String(), errb.String(), code
}

// removeStaleBinaries deletes the binaries that test processes which have ended built (there is
// no hook at the end of a test process to remove its own): their directories are named after the
// building process's pid.
func removeStaleBinaries() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "reauth-bin-*"))
	for _, d := range dirs {
		var pid int
		if _, err := fmt.Sscanf(filepath.Base(d), "reauth-bin-%d-", &pid); err != nil || pid <= 0 {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			_ = os.RemoveAll(d)
		}
	}
}
