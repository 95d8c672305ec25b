package reauth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveStateDir(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		name     string
		override string
		env      map[string]string
		want     string
		wantErr  bool
	}{
		{"override wins", "/srv/reauth", map[string]string{"XDG_STATE_HOME": "/x", "HOME": "/h"}, "/srv/reauth", false},
		{"xdg", "", map[string]string{"XDG_STATE_HOME": "/x", "HOME": "/h"}, "/x/reauth", false},
		{"relative xdg is ignored", "", map[string]string{"XDG_STATE_HOME": "x", "HOME": "/h"}, "/h/.local/state/reauth", false},
		{"home", "", map[string]string{"HOME": "/h"}, "/h/.local/state/reauth", false},
		{"nothing", "", map[string]string{}, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ResolveStateDir(tc.override, env(tc.env))
			if tc.wantErr {
				if err == nil || CodeOf(err) != ExitUsage || !strings.Contains(HintOf(err), "--state-dir") {
					t.Fatalf("got %v (code %d), want a usage error pointing to --state-dir", err, CodeOf(err))
				}
				return
			}
			if err != nil || d.Path != tc.want {
				t.Fatalf("got %q, %v; want %q", d.Path, err, tc.want)
			}
		})
	}
}

func TestStateDirEnsureIsPrivate(t *testing.T) {
	base := t.TempDir()
	d := StateDir{Path: filepath.Join(base, "state", "reauth")}
	got, err := d.Ensure("backups")
	if err != nil {
		t.Fatal(err)
	}
	if got != d.Backups() {
		t.Fatalf("Ensure(backups) = %s, want %s", got, d.Backups())
	}
	for _, p := range []string{d.Path, d.Backups()} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, want 0700", p, fi.Mode().Perm())
		}
	}
}

func TestStateDirEnsureRefusesWorldWritable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	_, err := StateDir{Path: dir}.Ensure()
	if CodeOf(err) != ExitRefused || !strings.Contains(HintOf(err), "chmod 700") {
		t.Fatalf("got %v, want a refusal with a chmod hint", err)
	}
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (StateDir{Path: file}).Ensure(); CodeOf(err) != ExitRefused {
		t.Fatalf("a file as state dir: got %v, want a refusal", err)
	}
}

func TestJournalNames(t *testing.T) {
	d := StateDir{Path: "/s"}
	a, b := d.RunJournal("/etc/a/reauth.yaml", "jira"), d.RunJournal("/etc/b/reauth.yaml", "jira")
	if a == b {
		t.Fatalf("two inventories share the run journal %s", a)
	}
	if d.RestartJournal("/etc/a/reauth.yaml", "jira") == a {
		t.Fatal("run and restart journals collide")
	}
	if filepath.Dir(a) != "/s" || !strings.Contains(filepath.Base(a), "jira") {
		t.Fatalf("run journal %s: want it in the state dir, named after the product", a)
	}
}

func TestStateDirEnsureRefusesAnotherOwner(t *testing.T) {
	dir := "/" // not ours unless we are root
	if os.Geteuid() == 0 {
		dir = filepath.Join(t.TempDir(), "theirs")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	_, err := StateDir{Path: dir}.Ensure()
	if CodeOf(err) != ExitRefused || !strings.Contains(err.Error(), "owned by uid") || !strings.Contains(HintOf(err), "chown") {
		t.Fatalf("a state dir owned by another user: got %v (hint %q), want a refusal with a chown hint", err, HintOf(err))
	}
	// backups/ linking there: the fix is the link, not a chown of someone else's directory.
	d := StateDir{Path: t.TempDir()}
	if err := os.Symlink(dir, d.Backups()); err != nil {
		t.Fatal(err)
	}
	_, err = d.Ensure("backups")
	if CodeOf(err) != ExitRefused || !strings.Contains(err.Error(), "a link to "+dir) || !strings.Contains(HintOf(err), "remove the link") ||
		strings.Contains(HintOf(err), "chown") {
		t.Fatalf("backups/ linked to another user's dir: got %v (hint %q), want a refusal whose fix is the link", err, HintOf(err))
	}
}

func TestStateDirEnsureRefusesBackupsLinkedToSharedDir(t *testing.T) {
	base := t.TempDir()
	shared := filepath.Join(base, "tmp")
	if err := os.Mkdir(shared, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777|os.ModeSticky); err != nil { // like /tmp
		t.Fatal(err)
	}
	d := StateDir{Path: filepath.Join(base, "state")}
	if err := os.Mkdir(d.Path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(shared, d.Backups()); err != nil {
		t.Fatal(err)
	}
	_, err := d.Ensure("backups")
	if CodeOf(err) != ExitRefused || !strings.Contains(err.Error(), shared) || !strings.Contains(HintOf(err), "remove the link") {
		t.Fatalf("backups/ linked to a sticky shared dir: got %v (hint %q), want a refusal naming the target", err, HintOf(err))
	}
	if _, err := (StateDir{Path: shared}).Ensure(); CodeOf(err) != ExitRefused {
		t.Fatalf("a sticky world-writable state dir: got %v, want a refusal", err)
	}

	// A link to a private directory of one's own (backups on a bigger disk) is fine.
	private := filepath.Join(base, "disk")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(d.Backups()); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(private, d.Backups()); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Ensure("backups"); err != nil {
		t.Fatalf("backups/ linked to a private dir: %v", err)
	}
}
