package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth/atlassian"
)

// A real Data Center cluster shares one token table: a remember-me cookie obtained on node1 logs
// in on node2 (the node's cache reads through to the table on a miss), while the session cookie
// is node1's alone (node-local sessions: the load balancer's stickiness keeps a browser on its
// node). Every product, since each has its own table and cookie format.
func TestCrossNodeRememberMeEveryProduct(t *testing.T) {
	for _, id := range []atlassian.ProductID{atlassian.Jira, atlassian.Confluence, atlassian.Bitbucket, atlassian.Bamboo, atlassian.Fisheye} {
		t.Run(string(id), func(t *testing.T) {
			t.Parallel()
			c := up(t, Options{Product: id, Nodes: 2, Users: 1, RememberFraction: -1})
			p, _ := atlassian.Lookup(string(id))
			n1, n2 := c.Nodes()[0].URL, c.Nodes()[1].URL
			b := login(t, id, n1, "user001", true)
			if got := whoami(t, onlyCookie(b, p.SessionCookie), n2); got != "" {
				t.Errorf("node1's session cookie logs in on node2 as %q: sessions are node-local", got)
			}
			remember := onlyCookie(b, p.RememberMeCookie)
			if len(remember.Cookies()) != 1 {
				t.Fatalf("no %s cookie after a remember-me login", p.RememberMeCookie)
			}
			if got := whoami(t, remember, n2); got != "user001" {
				t.Fatalf("node1's remember-me cookie on node2: whoami %q, want user001 (one shared token table)", got)
			}
			// And the other way round, from a token node2 has never seen at start-up either.
			b2 := login(t, id, n2, "user001", true)
			if got := whoami(t, onlyCookie(b2, p.RememberMeCookie), n1); got != "user001" {
				t.Fatalf("node2's remember-me cookie on node1: whoami %q", got)
			}
		})
	}
}

// Bitbucket's hazelcast.http.sessions: local sessions end with their node's restart; replicated
// ones are valid on every node and survive any node's restart while another node is up, and are
// gone once every node was down at once.
func TestHazelcastSessions(t *testing.T) {
	for _, mode := range []string{HazelcastLocal, HazelcastReplicated} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			c := up(t, Options{Product: atlassian.Bitbucket, Nodes: 2, Users: 1, RememberFraction: -1, HazelcastSessions: mode})
			props, err := os.ReadFile(filepath.Join(c.Home(), "shared", "bitbucket.properties"))
			if err != nil {
				t.Fatal(err)
			}
			if got, ok, err := atlassian.HazelcastSessionsFromProperties(props); err != nil || !ok || got != mode {
				t.Fatalf("bitbucket.properties says %q (%v, %v), want %s", got, ok, err, mode)
			}
			n1, n2 := c.Nodes()[0].URL, c.Nodes()[1].URL
			b := login(t, atlassian.Bitbucket, n1, "user001", false) // a session, no remember-me
			replicated := mode == HazelcastReplicated
			want := map[bool]string{true: "user001", false: ""}[replicated]
			if got := whoami(t, b, n2); got != want {
				t.Errorf("node1's session on node2: whoami %q, want %q", got, want)
			}
			restart(t, c, "node1")
			if got := whoami(t, b, n1); got != want {
				t.Errorf("after node1's restart, on node1: whoami %q, want %q", got, want)
			}
			restart(t, c, "node2")
			if got := whoami(t, b, n1); got != want {
				t.Errorf("after both restarted one at a time: whoami %q, want %q", got, want)
			}
			if !replicated {
				return
			}
			// Every node down at once: the map goes with the last member.
			ctx := context.Background()
			for _, n := range []string{"node1", "node2"} {
				if err := c.StopNode(ctx, n); err != nil {
					t.Fatal(err)
				}
			}
			for _, n := range []string{"node1", "node2"} {
				if err := c.StartNode(ctx, n); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.WaitRunning(ctx, 30*time.Second); err != nil {
				t.Fatal(err)
			}
			for _, u := range []string{n1, n2} {
				if got := whoami(t, b, u); got != "" {
					t.Errorf("after every node was down, %s: the session survived as %q", u, got)
				}
			}
		})
	}
}

// A node killed without leaving the map is not a member any more once its process is gone: when
// the last live member stops, the sessions go.
func TestHazelcastKilledMemberPruned(t *testing.T) {
	dir := t.TempDir()
	a, b := newClusterMap(dir, "node1"), newClusterMap(dir, "node2")
	if _, err := a.join(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.join(1 << 30); err != nil { // no such process: killed
		t.Fatal(err)
	}
	s := &sessionStore{shared: a}
	s.create("user001", time.Now())
	gone, err := a.leave()
	if err != nil || !gone {
		t.Fatalf("leave: gone=%v %v: the dead member must not keep the map", gone, err)
	}
	if k, _ := a.join(os.Getpid()); k != 0 {
		t.Fatalf("%d sessions after every member left", k)
	}
}

func TestUpRejectsHazelcastElsewhere(t *testing.T) {
	for _, o := range []Options{
		{Dir: t.TempDir(), Product: atlassian.Jira, HazelcastSessions: HazelcastReplicated},
		{Dir: t.TempDir(), Product: atlassian.Bitbucket, HazelcastSessions: "shared"},
	} {
		if _, err := Up(context.Background(), o, nil); err == nil || !strings.Contains(err.Error(), "azelcast") {
			t.Errorf("%+v: %v", o, err)
		}
	}
}
