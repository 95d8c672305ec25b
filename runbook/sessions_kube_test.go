package runbook

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/rollout"
)

// podsWithEnv is a restart method whose nodes start with a known env, as kube.PodRestarter's
// (the StatefulSet's pod template); its env is the Bitbucket chart's as rendered with
// additionalEnvironmentVariables (../shared/realcases/helm/bitbucket-hazelcast-replicated-env.yaml),
// which rollout/kube's TestTemplateEnvFromChart reads from the served StatefulSet.
type podsWithEnv struct{ env map[string]string }

func (p podsWithEnv) Method() string                           { return "kubernetes" }
func (p podsWithEnv) Preflight(context.Context) error          { return nil }
func (p podsWithEnv) Restart(context.Context, io.Writer) error { return nil }
func (p podsWithEnv) TemplateEnv() (map[string]string, string) {
	return p.env, "the env of container bitbucket in statefulset atl/bitbucket"
}

func bitbucketPodUnit(t *testing.T, r rollout.Restarter) *unit {
	u := testUnit(t, "bitbucket", false)
	u.o = &Options{Inventory: &inventory.Inventory{}}
	u.inv = &inventory.Product{ID: "bitbucket"}
	if r != nil {
		u.rplan.Nodes = []rollout.Node{{Name: "bitbucket-1", Restarter: r}, {Name: "bitbucket-0", Restarter: r}}
	}
	return u
}

// On Kubernetes HAZELCAST_HTTP_SESSIONS is read from the StatefulSet's env: replicated refuses a
// rolling restart, its absence is the default said with where it was looked for, and where
// nothing could be read at all the report says "not checked" instead of "local by default".
func TestHazelcastSessionsFromStatefulSetEnv(t *testing.T) {
	u := bitbucketPodUnit(t, podsWithEnv{map[string]string{"SERVER_CONTEXT_PATH": "/", "HAZELCAST_HTTP_SESSIONS": "replicated"}})
	err := u.checkClusterSessions(context.Background())
	if reauth.CodeOf(err) != reauth.ExitRefused ||
		!strings.Contains(err.Error(), "hazelcast.http.sessions=replicated in HAZELCAST_HTTP_SESSIONS in the env of container bitbucket in statefulset atl/bitbucket") {
		t.Fatalf("err = %v", err)
	}

	u = bitbucketPodUnit(t, podsWithEnv{map[string]string{"SERVER_CONTEXT_PATH": "/"}})
	if err := u.checkClusterSessions(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(u.report.Sessions, "local by default (BSERV-13407): set nowhere reauth read (the env of container bitbucket in statefulset atl/bitbucket)") {
		t.Errorf("sessions = %q", u.report.Sessions)
	}

	u = bitbucketPodUnit(t, nil)
	if err := u.checkClusterSessions(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(u.report.Sessions, "not checked") || strings.Contains(u.report.Sessions, "by default") ||
		!strings.Contains(strings.Join(u.report.Warnings, "\n"), "state it with hazelcast_http_sessions") {
		t.Errorf("sessions = %q, warnings %q", u.report.Sessions, u.report.Warnings)
	}
}
