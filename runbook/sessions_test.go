package runbook

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/rollout"
	"github.com/reauth/reauth/rollout/execmethod"
)

// bitbucketUnit is a Bitbucket unit whose one node (restarted by exec on this machine) is installed
// at install, with its home at home ("" for none).
func bitbucketUnit(t *testing.T, install, home string) *unit {
	t.Helper()
	p, err := atlassian.Lookup("bitbucket")
	if err != nil {
		t.Fatal(err)
	}
	u := &unit{o: &Options{Inventory: &inventory.Inventory{}}, inv: &inventory.Product{Home: home}, prod: p}
	u.rplan.Nodes = []rollout.Node{{Name: "node1", URL: "http://127.0.0.1:1", Install: install, Restarter: &execmethod.Restarter{Command: "true"}}}
	return u
}

// -Dhazelcast.http.sessions in setenv.sh's JVM_SUPPORT_RECOMMENDED_ARGS or JAVA_OPTS is read with
// the other sources: a clustered value refuses the rolling restart, naming the script; local
// (or no setting) lets it go.
func TestHazelcastSessionsFromSetenvJVMArgs(t *testing.T) {
	for _, tc := range []struct {
		name, setenv string
		refused      bool
	}{
		{"support args", `JVM_SUPPORT_RECOMMENDED_ARGS="-Xmx2g -Dhazelcast.http.sessions=sticky"`, true},
		{"java opts", `JAVA_OPTS="$JAVA_OPTS -Dhazelcast.http.sessions=replicated"`, true},
		{"local", `JVM_SUPPORT_RECOMMENDED_ARGS="-Dhazelcast.http.sessions=local"`, false},
		{"commented out", `# JAVA_OPTS="-Dhazelcast.http.sessions=replicated"`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			install := t.TempDir()
			script := filepath.Join(install, "bin", "setenv.sh")
			if err := os.MkdirAll(filepath.Dir(script), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(script, []byte("#!/bin/sh\n"+tc.setenv+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			u := bitbucketUnit(t, install, "")
			err := u.checkClusterSessions(context.Background())
			if !tc.refused {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "-Dhazelcast.http.sessions in "+script) ||
				!strings.Contains(reauth.HintOf(err), "--restart-strategy full") {
				t.Fatalf("got %v (hint %q), want a refusal naming %s", err, reauth.HintOf(err), script)
			}
		})
	}
}

// A node on this machine started with -Dhazelcast.http.sessions=replicated on its command line
// (a real process, found by its BITBUCKET_HOME) refuses the rolling restart too.
func TestHazelcastSessionsFromProcessCommandLine(t *testing.T) {
	home := t.TempDir()
	cmd := exec.Command("sh", "-c", "sleep 60; :", "bitbucket", "-Dhazelcast.http.sessions=replicated")
	cmd.Env = append(os.Environ(), "BITBUCKET_HOME="+home)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	u := bitbucketUnit(t, "", home)
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for { // poll: /proc shows the child's command line once it has exec'd sh
		if err = u.checkClusterSessions(context.Background()); err != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "-Dhazelcast.http.sessions on the command line") {
		t.Fatalf("got %v, want a refusal naming the process's command line", err)
	}
}
