package sshconfig

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth/internal/testenv"
)

// sshG is what the real OpenSSH client resolves for alias with config file cfg (ssh -G), by key;
// multi-valued keys (identityfile) keep every line.
func sshG(t *testing.T, cfg, alias string) map[string][]string {
	t.Helper()
	bin, err := exec.LookPath("ssh")
	if err != nil {
		testenv.Missing(t, "the OpenSSH client (ssh), to compare with")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-F", cfg, "-G", alias).Output()
	if err != nil {
		t.Fatalf("ssh -G %s: %v", alias, err)
	}
	m := map[string][]string{}
	for _, l := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(l, " ")
		m[k] = append(m[k], v)
	}
	return m
}

// local is this machine's user, home (from the password database, as ssh reads it) and name.
func local(t *testing.T) Options {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	h, _ := os.Hostname()
	return Options{Home: u.HomeDir, LocalUser: u.Username, LocalHost: h}
}

// TestAgreesWithOpenSSH resolves aliases through configs with every construct reauth reads, and
// compares each supported setting with what the real ssh client resolves (ssh -G).
func TestAgreesWithOpenSSH(t *testing.T) {
	testenv.Slow(t)
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("conf.d/10-bastion.conf", "Host bastion\n  HostName 127.0.0.9\n  User jump\n  Port 2201\n")
	write("conf.d/20-only-when-active.conf", "User from-inactive-include\nHost *\n  ServerAliveCountMax 9\n")
	write("conf.d/ignored.txt", "User never-read\n")
	cfg := write("config", `# a comment
Host jira-* !jira-9
  ProxyJump bastion
  User ops
  IdentityFile ~/.ssh/id_%h_%r_%u
Host jira-2
  HostName 10.0.2.12
  User other                     # first value wins: ops
  IdentityFile "%d/keys/second key"
Match host 10.0.2.*
  Port 2200
Match originalhost jira-3 !user root
  HostName 10.0.3.13
Match host 10.0.3.* user ops
  ServerAliveInterval 1m30s
Host JIRA-4
  ProxyCommand none
  ProxyJump jump1,admin@jump2:2022
Host confluence-*
  Include `+dir+`/conf.d/20-only-when-active.conf
Host nomatch
  Include `+dir+`/conf.d/*.conf
Host *
  Include `+dir+`/conf.d/1*.conf
  UserKnownHostsFile=~/.ssh/kh %d/kh2
  ConnectTimeout 7
  IdentitiesOnly yes
  StrictHostKeyChecking yes
`)
	o := local(t)
	c, err := Load([]string{cfg}, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, alias := range []string{"jira-1", "jira-2", "jira-3", "jira-4", "jira-9", "confluence-1", "bastion", "nomatch", "other.example"} {
		t.Run(alias, func(t *testing.T) {
			want := sshG(t, cfg, alias)
			h, err := c.Resolve(alias, Preset{})
			if err != nil {
				t.Fatal(err)
			}
			one := func(k string) string { return strings.Join(want[k], " ") }
			got := map[string]string{"hostname": h.HostName, "user": h.User, "port": strconv.Itoa(h.Port),
				"identitiesonly": yesNo(h.IdentitiesOnly), "serveraliveinterval": strconv.Itoa(int(h.ServerAliveInterval.Seconds())),
				"serveralivecountmax": strconv.Itoa(h.ServerAliveCountMax), "userknownhostsfile": strings.Join(h.KnownHosts, " ")}
			if h.ConnectTimeout > 0 {
				got["connecttimeout"] = strconv.Itoa(int(h.ConnectTimeout.Seconds()))
			} else {
				got["connecttimeout"] = "none"
			}
			var jumps []string
			for _, j := range h.ProxyJump {
				jumps = append(jumps, j.String())
			}
			got["proxyjump"] = strings.Join(jumps, ",")
			if got["userknownhostsfile"] == "" {
				delete(got, "userknownhostsfile") // ssh prints its defaults
			}
			for k, v := range got {
				if one(k) != v {
					t.Errorf("%s: reauth %q, ssh %q", k, v, one(k))
				}
			}
			// ssh -G prints IdentityFile unexpanded: expand its tokens with ssh's own values.
			rep := strings.NewReplacer("~", o.Home, "%d", o.Home, "%h", one("hostname"), "%r", one("user"), "%u", o.LocalUser)
			var ids []string
			for _, f := range want["identityfile"] {
				ids = append(ids, rep.Replace(f))
			}
			if len(h.IdentityFiles) > 0 && strings.Join(ids, "|") != strings.Join(h.IdentityFiles, "|") {
				t.Errorf("identityfile: reauth %q, ssh %q", h.IdentityFiles, ids)
			}
		})
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
