package runbook

// revoke's own logic on fakes (mock/): lock before the plan and held to the end, dry run and
// refusal change nothing, every token table is purged into its own backup before any session is
// ended, and a failed purge ends no session. revoke on a real Crowd: crowd_e2e_test.go.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/apimode"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/mock"
	"github.com/reauth/reauth/sqlstore"
)

// fakeRevoke is one Crowd with two nodes on fakes: its token table (3 rows of the users named)
// and its remember-me table beside it, and a session API that ends every user's sessions.
type fakeRevoke struct {
	t         *testing.T
	dir       string
	inv       *inventory.Inventory
	store     *mock.TokenStore
	companion *mock.TokenStore
	api       *mock.SessionAPI
	calls     []string // store, companion and API calls, in order
	out, err  bytes.Buffer
}

func newFakeRevoke(t *testing.T) *fakeRevoke {
	t.Helper()
	dir, inv := fakeInventory(t, "crowd", "    admin: {user: admin, token_env: CROWD_TOKEN}\n")
	f := &fakeRevoke{t: t, dir: dir, inv: inv, store: &mock.TokenStore{}, companion: &mock.TokenStore{}, api: &mock.SessionAPI{}}
	for name, s := range map[string]*mock.TokenStore{"cwd_token": f.store, "cwd_remember_me_token": f.companion} {
		s.TableFunc = func() sqlstore.TableInfo { return sqlstore.TableInfo{Name: name, User: "username"} }
		s.LockFunc = func(context.Context, string) (func() error, error) {
			f.calls = append(f.calls, name+".Lock")
			return func() error { f.calls = append(f.calls, name+".Unlock"); return nil }, nil
		}
		s.PlanFunc = func(_ context.Context, o sqlstore.PurgeOptions) (sqlstore.PurgePlan, error) {
			f.calls = append(f.calls, name+".Plan")
			return sqlstore.PurgePlan{ToDelete: 3}, nil
		}
		s.PurgeFunc = func(_ context.Context, o sqlstore.PurgeOptions) (sqlstore.PurgeResult, error) {
			f.calls = append(f.calls, name+".Purge "+filepath.Base(o.BackupPath)+" "+strings.Join(o.Users, ","))
			return sqlstore.PurgeResult{Deleted: 3, Backup: o.BackupPath, SHA256: "sum-" + name}, nil
		}
	}
	f.api.InvalidateFunc = func(_ context.Context, o apimode.Options) (apimode.Result, error) {
		f.calls = append(f.calls, "Invalidate "+strings.Join(o.Users, ","))
		return apimode.Result{Users: len(o.Users), Ended: len(o.Users), Requests: 2 * len(o.Users)}, nil
	}
	return f
}

func (f *fakeRevoke) options() RevokeOptions {
	return RevokeOptions{Users: []string{"alice", "Alice", "bob"}, Options: Options{
		Inventory: f.inv, Yes: true, StateDir: reauth.StateDir{Path: filepath.Join(f.dir, "state")},
		Out: &f.out, Err: &f.err, Getenv: func(k string) string { return map[string]string{"CROWD_TOKEN": "secret-pat"}[k] },
		seams: seams{
			open: func(context.Context, *inventory.Inventory, *inventory.Product, atlassian.Product, *Options) (TokenStore, reauth.Database, error) {
				return f.store, reauth.Database{Engine: reauth.Postgres, Host: "127.0.0.1", Port: 9, Name: "crowd"}, nil
			},
			further: func(context.Context, TokenStore, atlassian.TokenTable) (TokenStore, bool, error) {
				return f.companion, true, nil
			},
			sessions: f.api,
		},
	}}
}

func (f *fakeRevoke) revoke(o RevokeOptions) (*RevokeReport, error) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return Revoke(ctx, o)
}

func TestFakeRevokePurgesEveryTableThenEndsTheSessions(t *testing.T) {
	f := newFakeRevoke(t)
	rep, err := f.revoke(f.options())
	if err != nil {
		t.Fatalf("revoke: %v\n%s", err, f.err.String())
	}
	var calls []string
	for _, c := range f.calls { // the backup names hold the time: keep their table part
		calls = append(calls, strings.Join(strings.Fields(strings.NewReplacer(".jsonl.gz", "").Replace(c)), " "))
	}
	want := []string{"cwd_token.Lock", "cwd_token.Plan", "cwd_token.Purge", "cwd_remember_me_token.Purge", "Invalidate alice,bob", "cwd_token.Unlock"}
	if len(calls) != len(want) {
		t.Fatalf("calls %q, want %q", f.calls, want)
	}
	for i, w := range want {
		if !strings.HasPrefix(calls[i], w) && !strings.HasPrefix(w, "Invalidate") || strings.HasPrefix(w, "Invalidate") && calls[i] != w {
			t.Fatalf("call %d: %q, want %q (all: %q)", i, calls[i], w, f.calls)
		}
	}
	if !strings.HasSuffix(strings.Fields(f.calls[3])[1], "-cwd_remember_me_token.jsonl.gz") || strings.Contains(f.calls[2], "cwd_remember_me_token") ||
		!strings.HasSuffix(f.calls[2], " alice,bob") || !strings.HasSuffix(f.calls[3], " alice,bob") {
		t.Errorf("backups or users of the purges: %q", f.calls[2:4])
	}
	if rep.Deleted != 3 || rep.SHA256 != "sum-cwd_token" || rep.Ended != 2 || rep.TokensToPurge != 3 || !slices.Equal(rep.Users, []string{"alice", "bob"}) {
		t.Errorf("report %+v", rep)
	}
	if log, _ := os.ReadFile(filepath.Join(f.dir, "audit.jsonl")); !strings.Contains(string(log), `"revoke-purge-cwd_remember_me_token"`) ||
		strings.Contains(string(log)+f.err.String()+f.out.String(), "secret-pat") {
		t.Errorf("audit log without the companion's purge, or with the token:\n%s", log)
	}
}

func TestFakeRevokeDryRunAndRefusalChangeNothing(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*RevokeOptions)
		code reauth.ExitCode
	}{
		{"dry run", func(o *RevokeOptions) { o.DryRun = true }, reauth.ExitOK},
		{"not confirmed", func(o *RevokeOptions) { o.Yes = false }, reauth.ExitRefused},
		{"no admin token", func(o *RevokeOptions) { o.Getenv = func(string) string { return "" } }, reauth.ExitUsage},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeRevoke(t)
			o := f.options()
			c.edit(&o)
			_, err := f.revoke(o)
			if reauth.CodeOf(err) != c.code {
				t.Fatalf("err %v (code %d), want code %d", err, reauth.CodeOf(err), c.code)
			}
			if n := f.store.Count("Purge") + f.companion.Count("Purge") + f.api.Count("Invalidate"); n != 0 {
				t.Errorf("%d purge or invalidate call(s): %q", n, f.calls)
			}
		})
	}
}

// A purge that fails ends no session: the users' cookies would otherwise log them straight back in.
func TestFakeRevokeFailedPurgeEndsNoSession(t *testing.T) {
	f := newFakeRevoke(t)
	f.companion.PurgeFunc = func(context.Context, sqlstore.PurgeOptions) (sqlstore.PurgeResult, error) {
		return sqlstore.PurgeResult{}, errors.New("connection lost")
	}
	rep, err := f.revoke(f.options())
	if err == nil || !strings.Contains(rep.Error, "connection lost") || f.api.Count("Invalidate") != 0 || f.store.Count("Purge") != 1 {
		t.Fatalf("err %v, report error %q, invalidate %d, token table purges %d", err, rep.Error, f.api.Count("Invalidate"), f.store.Count("Purge"))
	}
}

// Users the product does not know fail the revoke (exit 1) after the others are revoked.
func TestFakeRevokeUnknownUser(t *testing.T) {
	f := newFakeRevoke(t)
	f.api.InvalidateFunc = func(_ context.Context, o apimode.Options) (apimode.Result, error) {
		return apimode.Result{Users: len(o.Users), Ended: 1, NotFound: []string{"bob"}}, nil
	}
	rep, err := f.revoke(f.options())
	if reauth.CodeOf(err) != reauth.ExitFailed || !slices.Equal(rep.NotFound, []string{"bob"}) || rep.Ended != 1 {
		t.Fatalf("err %v (code %d), report %+v", err, reauth.CodeOf(err), rep)
	}
}
