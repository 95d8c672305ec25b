package sqlstore

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
)

// silentListener accepts TCP connections on 127.0.0.1 and never says a word: a firewall, a
// proxy or a hung server. closed receives one value per accepted connection once the client
// closed it (read returns).
func silentListener(t *testing.T) (port int, closed <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				_, _ = io.Copy(io.Discard, c) // until the client closes it
				c.Close()
				ch <- struct{}{}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().(*net.TCPAddr).Port, ch
}

// Every engine's connect is bounded by the connect timeout and abandoned on Ctrl-C (a cancelled
// context) against a server that accepts TCP and never answers; the socket is closed, not left
// behind. go-mssqldb used to wait for the server's PRELOGIN answer forever.
func TestConnectSilentServer(t *testing.T) {
	engines := []reauth.Engine{reauth.Postgres, reauth.MariaDB, reauth.SQLServer, reauth.Oracle}
	for _, e := range engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			port, closed := silentListener(t)
			db := reauth.Database{Engine: e, Host: "127.0.0.1", Port: port, Name: "jira", User: "jira", Password: reauth.NewSecret("s3cr3t-pw")}
			run := func(ctx context.Context, timeout time.Duration) (error, time.Duration) {
				t0 := time.Now()
				done := make(chan error, 1)
				go func() {
					s, err := Open(ctx, db, product(t, "jira"), Options{ConnectTimeout: timeout})
					if s != nil {
						s.Close()
					}
					done <- err
				}()
				select {
				case err := <-done:
					return err, time.Since(t0)
				case <-time.After(timeout + 10*time.Second):
					t.Fatalf("%s: connect still blocked %s after it started (timeout %s)", e, time.Since(t0), timeout)
					return nil, 0
				}
			}
			waitClosed := func(what string) {
				select {
				case <-closed:
				case <-time.After(5 * time.Second):
					t.Fatalf("%s: the abandoned connection is still open", what)
				}
			}

			err, took := run(context.Background(), time.Second)
			if reauth.CodeOf(err) != reauth.ExitFailed || !strings.Contains(err.Error(), "no answer within 1s") ||
				!strings.Contains(reauth.HintOf(err), "--connect-timeout") || took > 4*time.Second {
				t.Fatalf("timeout: after %s: %v (code %d, hint %q)", took, err, reauth.CodeOf(err), reauth.HintOf(err))
			}
			if strings.Contains(err.Error(), "s3cr3t-pw") {
				t.Fatal("the password is in the error")
			}
			waitClosed("timeout")

			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(300*time.Millisecond, cancel) // Ctrl-C
			err, took = run(ctx, time.Minute)
			if reauth.CodeOf(err) != reauth.ExitInterrupted || took > 3*time.Second {
				t.Fatalf("cancelled: after %s: %v (code %d)", took, err, reauth.CodeOf(err))
			}
			waitClosed("cancelled")
			t.Logf("%s: %v", e, err)
		})
	}
}

// The drivers' own connect timeouts follow --connect-timeout too.
func TestDSNConnectTimeout(t *testing.T) {
	for _, c := range []struct {
		db   reauth.Database
		want string
	}{
		{reauth.Database{Engine: reauth.Postgres, Host: "h", Name: "d"}, "connect_timeout=7"},
		{reauth.Database{Engine: reauth.MySQL, Host: "h", Name: "d"}, "timeout=7s"},
		{reauth.Database{Engine: reauth.SQLServer, Host: "h", Name: "d"}, "dial+timeout=7"},
		{reauth.Database{Engine: reauth.Oracle, Host: "h", Name: "d"}, "TIMEOUT=7"},
	} {
		_, dsn, err := dsnWithTimeout(c.db, 6500*time.Millisecond)
		if err != nil || !strings.Contains(dsn, c.want) {
			t.Errorf("%s: %s %v, want %s", c.db.Engine, dsn, err, c.want)
		}
	}
}
