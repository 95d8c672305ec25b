package sshconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
)

var opts = Options{Home: "/home/admin", LocalUser: "admin", LocalHost: "ops1.example.com"}

func resolve(t *testing.T, text, alias string, pre Preset) (*Host, error) {
	t.Helper()
	c, err := Parse([]byte(text), "config", opts)
	if err != nil {
		return nil, err
	}
	return c.Resolve(alias, pre)
}

func TestRefusesWhatItCannotFollowWithFileLine(t *testing.T) {
	cases := []struct {
		name, text, alias string
		want              string // "" = no error
	}{
		{"ProxyCommand for the node", "Host jira-*\n  User ops\n  ProxyCommand ssh -W %h:%p bastion\n", "jira-1", "config:3: proxycommand applies to jira-1"},
		{"LocalForward for every host", "Host *\n  LocalForward 8080 localhost:80\n", "jira-1", "config:2: localforward"},
		{"ProxyCommand for other hosts only", "Host github.com\n  ProxyCommand nc %h %p\nHost jira-1\n  User ops\n", "jira-1", ""},
		{"ProxyCommand none is harmless", "Host *\n  ProxyCommand none\n", "jira-1", ""},
		{"ProxyJump first: a later ProxyCommand is not used", "Host jira-1\n  ProxyJump b\nHost *\n  ProxyCommand nc %h %p\n", "jira-1", ""},
		{"Match exec that could apply", "Match exec \"true\"\n  User x\n", "jira-1", "config:1: Match exec cannot be evaluated"},
		{"Match exec decided by host first", "Match host db-* exec \"true\"\n  User x\n", "jira-1", ""},
		{"unknown keyword", "Host *\n  Usr ops\n", "jira-1", `config:2: "Usr" is not an ssh_config keyword`},
		{"unknown keyword IgnoreUnknown names", "IgnoreUnknown Usr,Foo\nHost *\n  Usr ops\n", "jira-1", ""},
		{"token reauth cannot expand", "Host *\n  IdentityFile ~/.ssh/%C\n", "jira-1", "config:2: IdentityFile: token %C"},
		{"unterminated quote", "Host *\n  IdentityFile \"~/.ssh/a\n", "jira-1", "config:2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := resolve(t, c.text, c.alias, Preset{})
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if reauth.CodeOf(err) != reauth.ExitUsage {
				t.Errorf("exit code %d, want usage", reauth.CodeOf(err))
			}
		})
	}
}

func TestIgnoredDirectivesAreListed(t *testing.T) {
	h, err := resolve(t, "Host jira-*\n  ForwardAgent yes\n  Compression yes\n  StrictHostKeyChecking accept-new\nHost other\n  ControlMaster auto\n", "jira-1", Preset{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range h.Ignored {
		got = append(got, s.Keyword+"@"+s.Where)
	}
	want := "forwardagent@config:2 compression@config:3 stricthostkeychecking@config:4"
	if strings.Join(got, " ") != want {
		t.Errorf("ignored = %v, want %s", got, want)
	}
}

func TestPresetWinsAndTokens(t *testing.T) {
	text := "Host jira-1\n  HostName %h.internal\n  User ops\n  Port 2200\n  IdentityFile ~/.ssh/%r@%h-%p_%u_%n_%L_%%\n" +
		"  UserKnownHostsFile %d/.ssh/kh_%h\n  ConnectTimeout 9\n  ProxyJump bastion\n"
	h, err := resolve(t, text, "jira-1", Preset{})
	if err != nil {
		t.Fatal(err)
	}
	if h.HostName != "jira-1.internal" || h.User != "ops" || h.Port != 2200 || h.ConnectTimeout != 9*time.Second {
		t.Errorf("resolved %+v", h)
	}
	if want := "/home/admin/.ssh/ops@jira-1.internal-2200_admin_jira-1_ops1_%"; len(h.IdentityFiles) != 1 || h.IdentityFiles[0] != want {
		t.Errorf("identity files %q, want %q", h.IdentityFiles, want)
	}
	if len(h.KnownHosts) != 1 || h.KnownHosts[0] != "/home/admin/.ssh/kh_jira-1.internal" {
		t.Errorf("known hosts %q", h.KnownHosts)
	}
	// The inventory's values are set before the file is read: they win, and %r follows them.
	h, err = resolve(t, text, "jira-1", Preset{User: "deploy", Port: 22, ConnectTimeout: 3 * time.Second, ProxyJump: "none"})
	if err != nil {
		t.Fatal(err)
	}
	if h.User != "deploy" || h.Port != 22 || h.ConnectTimeout != 3*time.Second || h.ProxyJump != nil ||
		!strings.Contains(h.IdentityFiles[0], "deploy@jira-1.internal-22") {
		t.Errorf("preset lost: %+v", h)
	}
	h, err = resolve(t, text, "jira-1", Preset{IdentityFiles: []string{"/keys/node"}, KnownHosts: []string{"/kh"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(h.IdentityFiles, ",") != "/keys/node" || strings.Join(h.KnownHosts, ",") != "/kh" {
		t.Errorf("inventory files did not replace the config's: %q %q", h.IdentityFiles, h.KnownHosts)
	}
}

func TestRelativeIncludeUnderHomeSSH(t *testing.T) {
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, ".ssh", "conf.d"), 0o700)
	os.WriteFile(filepath.Join(home, ".ssh", "conf.d", "jira.conf"), []byte("Host jira-*\n  User ops\n  RemoteForward 1 x:1\n"), 0o600)
	os.WriteFile(filepath.Join(home, ".ssh", "config"), []byte("Include conf.d/*.conf\n"), 0o600)
	c, err := Load([]string{filepath.Join(home, ".ssh", "config"), filepath.Join(home, "missing")}, Options{Home: home, LocalUser: "me"})
	if err != nil {
		t.Fatal(err)
	}
	if h, err := c.Resolve("db-1", Preset{}); err != nil || h.User != "me" {
		t.Errorf("db-1: %+v %v", h, err)
	}
	_, err = c.Resolve("jira-1", Preset{})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(home, ".ssh", "conf.d", "jira.conf")+":3: remoteforward") {
		t.Errorf("the included file's line is not named: %v", err)
	}
}

func TestParseJumps(t *testing.T) {
	j, err := ParseJumps("bastion, ops@gw:2022,ssh://a@[::1]:23")
	if err != nil {
		t.Fatal(err)
	}
	if len(j) != 3 || j[0] != (Jump{Host: "bastion"}) || j[1] != (Jump{User: "ops", Host: "gw", Port: 2022}) || j[2] != (Jump{User: "a", Host: "::1", Port: 23}) {
		t.Errorf("jumps %+v", j)
	}
	for _, bad := range []string{"gw:0", "a b", ""} {
		if _, err := ParseJumps(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
