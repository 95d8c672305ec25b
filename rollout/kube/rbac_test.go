package kube

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/rollout"
)

const exampleManifest = "../../deploy/kubernetes/reauth-job.yaml"

type manifestObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name      string `yaml:"name"`
		Namespace string `yaml:"namespace"`
	} `yaml:"metadata"`
	Rules []struct {
		APIGroups     []string `yaml:"apiGroups"`
		Resources     []string `yaml:"resources"`
		Verbs         []string `yaml:"verbs"`
		ResourceNames []string `yaml:"resourceNames"`
	} `yaml:"rules"`
	Subjects []struct {
		Kind, Name, Namespace string
	} `yaml:"subjects"`
	RoleRef struct {
		Kind, Name string
	} `yaml:"roleRef"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Template struct {
			Spec struct {
				ServiceAccountName string `yaml:"serviceAccountName"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

func readManifest(t *testing.T) map[string]manifestObject {
	t.Helper()
	data, err := os.ReadFile(exampleManifest)
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string]manifestObject{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var o manifestObject
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", exampleManifest, err)
		}
		if _, dup := objs[o.Kind]; dup {
			t.Fatalf("%s: two %s objects; the test expects one of each", exampleManifest, o.Kind)
		}
		objs[o.Kind] = o
	}
	return objs
}

// everyCall drives every code path of the kubernetes method that talks to the API server (plan,
// preflight, a whole rolling restart, the pod-IP URL, a missing pod) and returns what it asked.
func everyCall(t *testing.T) []apiCall {
	fc := newFakeCluster(t, 2, 50*time.Millisecond)
	ctx := context.Background()
	nodes, err := Nodes(ctx, fc.client(t), ns, Config{StatefulSet: "confluence", URLTemplate: fc.srv.URL + "/{pod}"}, confluence(t))
	if err != nil {
		t.Fatal(err)
	}
	plan := rollout.Plan{Product: confluence(t), Nodes: nodes}
	opts := rollout.Options{StartTimeout: 10 * time.Second, PollInterval: 10 * time.Millisecond, MaxPoll: 50 * time.Millisecond, StableWindow: 50 * time.Millisecond}
	if err := rollout.Preflight(ctx, plan, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := rollout.Run(ctx, plan, opts); err != nil {
		t.Fatal(err)
	}
	n0 := nodes[0].Restarter.(*PodRestarter)
	r := &PodRestarter{Client: n0.Client, Namespace: ns, Pod: n0.Pod, Config: Config{StatefulSet: "confluence"}, Port: 8090}
	if _, err := r.URL(ctx); err != nil {
		t.Fatal(err)
	}
	r.Pod = "confluence-9"
	if ok, _, err := r.Ready(ctx); ok || err != nil {
		t.Fatal(ok, err)
	}
	// A chart-installed Jira given by its release name, whose pods a PodDisruptionBudget selects:
	// found by the release label, each pod evicted.
	sts := helmStatefulSet(t, "jira-prod-ondelete-ordinal1.yaml")
	hc := startFakeCluster(t, sts, 0)
	pdb := jiraPDB()
	pdb.Spec.Selector.MatchLabels["app.kubernetes.io/instance"] = "prod"
	hc.pdbs = append(hc.pdbs, pdb)
	nodes, err = Nodes(ctx, hc.client(t), ns, Config{StatefulSet: "prod", URLTemplate: hc.srv.URL + "/{pod}"}, jira(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rollout.Run(ctx, rollout.Plan{Product: jira(t), Nodes: nodes}, opts); err != nil {
		t.Fatal(err)
	}
	if len(hc.evictions) != 3 {
		t.Fatalf("evictions = %v", hc.evictions)
	}
	return append(fc.recorded(), hc.recorded()...)
}

// The example Role allows exactly the calls the kubernetes method makes: a new call fails this
// test until the Role allows it, and the Role may not allow anything the code does not use.
func TestExampleRBACAllowsExactlyTheCallsMade(t *testing.T) {
	objs := readManifest(t)
	role, ok := objs["Role"]
	if !ok {
		t.Fatalf("%s has no (namespaced) Role", exampleManifest)
	}
	if _, ok := objs["ClusterRole"]; ok {
		t.Errorf("the example must not grant cluster-wide rights (ClusterRole)")
	}
	allowed := map[string]bool{}
	for _, rule := range role.Rules {
		if len(rule.ResourceNames) > 0 {
			t.Errorf("resourceNames in %v: the pods' names depend on the replica count", rule)
		}
		for _, g := range rule.APIGroups {
			for _, res := range rule.Resources {
				for _, v := range rule.Verbs {
					if g == "*" || res == "*" || v == "*" {
						t.Errorf("wildcard in the Role: %v", rule)
					}
					allowed[v+" "+g+"/"+res] = true
				}
			}
		}
	}
	used := map[string]bool{}
	for _, c := range everyCall(t) {
		if c.Namespace != ns {
			t.Errorf("a call outside the StatefulSet's namespace: %v", c)
		}
		used[c.Verb+" "+c.Group+"/"+c.Resource] = true
	}
	if len(used) == 0 {
		t.Fatal("no API call recorded")
	}
	for k := range used {
		if !allowed[k] {
			t.Errorf("the code makes %q, the Role in %s does not allow it", k, exampleManifest)
		}
	}
	for k := range allowed {
		if !used[k] {
			t.Errorf("the Role in %s allows %q, the code never makes it", exampleManifest, k)
		}
	}
	if t.Failed() {
		t.Logf("used: %v", sortedKeys(used))
	}

	// The binding gives that Role, in that namespace, to the service account the Job runs as.
	sa, rb, job := objs["ServiceAccount"], objs["RoleBinding"], objs["Job"]
	if rb.RoleRef.Kind != "Role" || rb.RoleRef.Name != role.Metadata.Name {
		t.Errorf("RoleBinding refers to %s %q, not the Role %q", rb.RoleRef.Kind, rb.RoleRef.Name, role.Metadata.Name)
	}
	if len(rb.Subjects) != 1 || rb.Subjects[0].Kind != "ServiceAccount" || rb.Subjects[0].Name != sa.Metadata.Name {
		t.Errorf("RoleBinding subjects = %+v, want the ServiceAccount %q", rb.Subjects, sa.Metadata.Name)
	}
	if job.Spec.Template.Spec.ServiceAccountName != sa.Metadata.Name {
		t.Errorf("the Job runs as %q, not %q", job.Spec.Template.Spec.ServiceAccountName, sa.Metadata.Name)
	}
	for kind, o := range objs {
		if o.Metadata.Namespace != role.Metadata.Namespace {
			t.Errorf("%s is in namespace %q, the Role in %q", kind, o.Metadata.Namespace, role.Metadata.Namespace)
		}
	}
}

// The example's inventory is one reauth accepts, and it restarts in the Role's namespace.
func TestExampleInventoryParses(t *testing.T) {
	objs := readManifest(t)
	cm := objs["ConfigMap"]
	inv, err := inventory.Parse([]byte(cm.Data["reauth.yaml"]), filepath.Join("/var/lib/reauth", "reauth.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range inv.Products {
		if p.Kubernetes == nil || p.Kubernetes.Namespace != objs["Role"].Metadata.Namespace {
			t.Errorf("product %s: kubernetes = %+v", p.ID, p.Kubernetes)
		}
		// The charts give no per-pod DNS names: the example relies on the pod IP default.
		if p.Kubernetes != nil && p.Kubernetes.URLTemplate != "" {
			t.Errorf("product %s: url_template %q in the example (the charts' Service is not headless)", p.ID, p.Kubernetes.URLTemplate)
		}
	}
}

func sortedKeys(m map[string]bool) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}
