package kube

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/rollout"
)

func product(t *testing.T, id string) atlassian.Product {
	t.Helper()
	p, err := atlassian.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func notes(f *Found) string { return strings.Join(f.Notes, "\n") }

// Release "prod" of the Jira chart with ordinals.start 1: its StatefulSet is prod-jira (the release
// name does not contain the chart's), its pods prod-jira-1..3. reauth finds the StatefulSet by the
// release label, says so, and restarts prod-jira-3, -2, -1.
func TestReleaseNameAndOrdinalStart(t *testing.T) {
	sts := helmStatefulSet(t, "jira-prod-ondelete-ordinal1.yaml")
	if sts.Name != "prod-jira" || sts.Spec.Ordinals == nil || sts.Spec.Ordinals.Start != 1 {
		t.Fatalf("the rendered chart changed: %s, ordinals %+v", sts.Name, sts.Spec.Ordinals)
	}
	fc := startFakeCluster(t, sts, 0)
	ctx := context.Background()
	f, err := Find(ctx, fc.client(t), ns, Config{StatefulSet: "prod", URLTemplate: fc.srv.URL + "/{pod}"}, jira(t))
	if err != nil {
		t.Fatal(err)
	}
	if f.StatefulSet != "prod-jira" || !strings.Contains(notes(f), "no StatefulSet atlassian/prod; found prod-jira by its Helm release label app.kubernetes.io/instance=prod") {
		t.Errorf("found %q, notes:\n%s", f.StatefulSet, notes(f))
	}
	var names []string
	for _, n := range f.Nodes {
		names = append(names, n.Name)
	}
	if strings.Join(names, ",") != "prod-jira-3,prod-jira-2,prod-jira-1" {
		t.Fatalf("nodes = %v", names)
	}
	plan := rollout.Plan{Product: jira(t), Nodes: f.Nodes}
	if err := rollout.Preflight(ctx, plan, rolloutOpts()); err != nil {
		t.Fatal(err)
	}
	if _, err := rollout.Run(ctx, plan, rolloutOpts()); err != nil {
		t.Fatal(err)
	}
	if d := strings.Join(fc.deleted(), ","); d != "prod-jira-3,prod-jira-2,prod-jira-1" {
		t.Errorf("deleted %v", d)
	}
}

// A name that is neither a StatefulSet nor a release says how the charts name StatefulSets.
func TestStatefulSetNotFoundByName(t *testing.T) {
	fc := helmJira(t, appsv1.RollingUpdateStatefulSetStrategyType)
	_, err := Find(context.Background(), fc.client(t), ns, Config{StatefulSet: "prod"}, jira(t))
	if err == nil || !strings.Contains(err.Error(), "no StatefulSet has the Helm release label app.kubernetes.io/instance=prod") {
		t.Fatalf("err = %v", err)
	}
}

// Without url_template a pod is reached at its IP, on the container's port named http, under the
// context path of its env: the charts' Service is not headless, so {pod}.{service} names do not
// resolve. The port is moved from the chart's (the product's default) to show it is read.
func TestPodURLFromPodSpec(t *testing.T) {
	cases := []struct{ file, pod, want string }{
		{"jira.yaml", "jira-2", "http://10.0.0.1:9999"},
		{"confluence.yaml", "confluence-1", "http://10.0.0.1:9999"},
		{"bitbucket.yaml", "bitbucket-1", "http://10.0.0.1:9999"}, // SERVER_CONTEXT_PATH "/"
		{"crowd.yaml", "crowd-1", "http://10.0.0.1:9999/crowd"},   // ATL_TOMCAT_CONTEXTPATH
		{"bamboo.yaml", "bamboo-0", "http://10.0.0.1:9999"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			sts := helmStatefulSet(t, tc.file)
			moved := 0
			for _, c := range sts.Spec.Template.Spec.Containers {
				for j := range c.Ports {
					if c.Ports[j].Name == "http" {
						c.Ports[j].ContainerPort = 9999
						moved++
					}
				}
			}
			if moved != 1 {
				t.Fatalf("%d ports named http in %s", moved, tc.file)
			}
			fc := startFakeCluster(t, sts, 0)
			id := strings.TrimSuffix(tc.file, ".yaml")
			nodes, err := Nodes(context.Background(), fc.client(t), ns, Config{StatefulSet: id}, product(t, id))
			if err != nil {
				t.Fatal(err)
			}
			u, err := nodes[0].Restarter.(*PodRestarter).URL(context.Background())
			if nodes[0].Name != tc.pod || err != nil || u != tc.want {
				t.Errorf("%s: URL = %q, %v; want %q", nodes[0].Name, u, err, tc.want)
			}
		})
	}
}

// The chart's default local home is an emptyDir, wiped by each delete: the plan warns, and not
// when it is a volume claim.
func TestEmptyDirLocalHomeWarned(t *testing.T) {
	fc := helmJira(t, appsv1.RollingUpdateStatefulSetStrategyType)
	f, err := Find(context.Background(), fc.client(t), ns, Config{StatefulSet: "jira"}, jira(t))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(notes(f), "the local home of statefulset jira (volume local-home at /var/atlassian/application-data/jira) is an emptyDir") ||
		!strings.Contains(notes(f), "volumes.localHome.persistentVolumeClaim.create=true") {
		t.Errorf("notes:\n%s", notes(f))
	}
	sts := helmStatefulSet(t, "jira.yaml")
	vols := sts.Spec.Template.Spec.Volumes[:0]
	for _, v := range sts.Spec.Template.Spec.Volumes {
		if v.Name != "local-home" { // persistentVolumeClaim.create=true: a volumeClaimTemplate instead
			vols = append(vols, v)
		}
	}
	sts.Spec.Template.Spec.Volumes = vols
	fc = startFakeCluster(t, sts, 0)
	f, err = Find(context.Background(), fc.client(t), ns, Config{StatefulSet: "jira"}, jira(t))
	if err != nil || strings.Contains(notes(f), "emptyDir") {
		t.Errorf("%v, notes:\n%s", err, notes(f))
	}
}

// The plan says that Tomcat session persistence needs no check on Kubernetes, rather than staying
// silent about it.
func TestTomcatPersistenceNotNeededSaid(t *testing.T) {
	fc := helmJira(t, appsv1.RollingUpdateStatefulSetStrategyType)
	f, err := Find(context.Background(), fc.client(t), ns, Config{StatefulSet: "jira"}, jira(t))
	if err != nil || !strings.Contains(notes(f), "Tomcat session persistence not checked, and not needed on Kubernetes") {
		t.Errorf("%v, notes:\n%s", err, notes(f))
	}
}

// The product container's env in the StatefulSet's template is what the run reads
// HAZELCAST_HTTP_SESSIONS from (runbook/sessions.go): the Bitbucket chart with
// additionalEnvironmentVariables carries it; the default chart does not.
func TestTemplateEnvFromChart(t *testing.T) {
	for file, want := range map[string]string{"bitbucket-hazelcast-replicated-env.yaml": "replicated", "bitbucket.yaml": ""} {
		fc := startFakeCluster(t, helmStatefulSet(t, file), 0)
		nodes, err := Nodes(context.Background(), fc.client(t), ns, Config{StatefulSet: "bitbucket"}, product(t, "bitbucket"))
		if err != nil {
			t.Fatal(err)
		}
		env, src := nodes[0].Restarter.(*PodRestarter).TemplateEnv()
		if env["HAZELCAST_HTTP_SESSIONS"] != want || env["SERVER_CONTEXT_PATH"] != "/" || src != "the env of container bitbucket in statefulset atlassian/bitbucket" {
			t.Errorf("%s: HAZELCAST_HTTP_SESSIONS=%q, from %q", file, env["HAZELCAST_HTTP_SESSIONS"], src)
		}
		if _, ok := env["JDBC_PASSWORD"]; ok || env["JDBC_URL"] != "jdbc:postgresql://db:5432/bitbucket" {
			t.Errorf("%s: literal env %v (a Secret reference must not be in it)", file, env)
		}
	}
}
