package kube

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reauth/reauth/internal/testenv"
	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

const ns = "atlassian"

// apiCall is one request to the simulated API server, in RBAC terms (verb, API group, resource).
type apiCall struct{ Verb, Group, Resource, Namespace string }

func (c apiCall) String() string {
	return fmt.Sprintf("%s %s/%s in %s", c.Verb, c.Group, c.Resource, c.Namespace)
}

// fakeCluster is a simulated Kubernetes API server on 127.0.0.1 that answers the REST paths and
// Status objects a real one does, with a StatefulSet controller behind it: a deleted pod is
// terminating for a moment, then comes back with a new UID, on the template's newest revision
// (status.updateRevision, its controller-revision-hash label), not Ready, and turns Ready after
// startDelay; the StatefulSet's status counts the pods on that revision as the controller does. Every request is recorded as an RBAC verb/resource (for the RBAC test). The product
// status server answers per pod.
type fakeCluster struct {
	api        *httptest.Server
	srv        *httptest.Server // product status endpoints: /{pod}/status
	token      string
	startDelay time.Duration

	mu         sync.Mutex
	sts        map[string]*appsv1.StatefulSet
	pods       map[string]*corev1.Pod
	gen        int
	state      map[string]string // pod -> product state
	pdbs       []policyv1.PodDisruptionBudget
	secrets    map[string]*corev1.Secret
	forbidden  map[string]bool // resources the account may not touch: 403, as RBAC answers
	deletions  []string
	evictions  []string // deletions made through the eviction API
	refusals   int      // evictions a budget refused (429)
	violations []string
	maxDown    int // the most pods down at once, counted at each deletion
	calls      []apiCall
}

func pod(name string, uid string, ready bool) *corev1.Pod {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID(uid), Labels: map[string]string{"app": "confluence"}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1",
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}},
	}
}

func newFakeCluster(t *testing.T, replicas int32, startDelay time.Duration) *fakeCluster {
	t.Helper()
	return startFakeCluster(t, &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{Kind: "StatefulSet", APIVersion: "apps/v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "confluence", Namespace: ns},
		Spec:       appsv1.StatefulSetSpec{Replicas: &replicas, ServiceName: "confluence-headless"}}, startDelay)
}

// startFakeCluster serves sts (its pods created Ready and RUNNING, on one revision) and the
// product status server.
func startFakeCluster(t *testing.T, sts *appsv1.StatefulSet, startDelay time.Duration) *fakeCluster {
	t.Helper()
	fc := &fakeCluster{token: "test-token-" + t.Name(), startDelay: startDelay, gen: 1,
		sts: map[string]*appsv1.StatefulSet{sts.Name: sts}, pods: map[string]*corev1.Pod{}, state: map[string]string{}}
	sts.Namespace, sts.Generation = ns, 1
	sts.Status = appsv1.StatefulSetStatus{ObservedGeneration: 1, CurrentRevision: sts.Name + "-rev1", UpdateRevision: sts.Name + "-rev1"}
	for _, name := range podNames(sts) {
		fc.pods[name] = fromTemplate(sts, name, name+"-uid-1", true)
		fc.pods[name].Labels[revisionLabel] = sts.Status.CurrentRevision
		fc.state[name] = "RUNNING"
	}
	fc.countLocked(sts)
	// TLS, as a real API server: clientcmd sends credentials to https servers only.
	fc.api = httptest.NewTLSServer(http.HandlerFunc(fc.serveAPI))
	t.Cleanup(fc.api.Close)
	fc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/status")
		fc.mu.Lock()
		st, ok := fc.state[name]
		fc.mu.Unlock()
		if !ok || st == "DOWN" {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"state": st})
	}))
	t.Cleanup(fc.srv.Close)
	return fc
}

// kubeconfig writes a kubeconfig for the simulated API server (its CA certificate, the given token).
func (fc *fakeCluster) kubeconfig(t *testing.T, token string) string {
	t.Helper()
	kc := filepath.Join(t.TempDir(), "config")
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: fc.api.Certificate().Raw})
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
current-context: sim
clusters:
- name: sim
  cluster: {server: %q, certificate-authority-data: %s}
users:
- name: u
  user: {token: %q}
contexts:
- name: sim
  context: {cluster: sim, user: u, namespace: %s}
`, fc.api.URL, base64.StdEncoding.EncodeToString(ca), token, ns)
	if err := os.WriteFile(kc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return kc
}

// client connects to the simulated API server the way reauth does: through a kubeconfig.
func (fc *fakeCluster) client(t *testing.T) *Client {
	t.Helper()
	c, gotNS, err := Connect(Config{Kubeconfig: fc.kubeconfig(t, fc.token)})
	if err != nil || gotNS != ns {
		t.Fatalf("connect: namespace %q, %v", gotNS, err)
	}
	return c
}

// recorded returns the distinct calls made so far, sorted.
func (fc *fakeCluster) recorded() []apiCall {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	seen := map[apiCall]bool{}
	var out []apiCall
	for _, c := range fc.calls {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func (fc *fakeCluster) set(name, st string) {
	fc.mu.Lock()
	fc.state[name] = st
	fc.mu.Unlock()
}

// parseAPIPath splits /api/v1/namespaces/NS/RES[/NAME] and /apis/GROUP/VERSION/namespaces/NS/RES[/NAME].
func parseAPIPath(p string) (group, namespace, resource, name string, ok bool) {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		group, parts = parts[1], parts[3:]
	default:
		return "", "", "", "", false
	}
	if len(parts) < 3 || len(parts) > 5 || parts[0] != "namespaces" {
		return "", "", "", "", false
	}
	namespace, resource = parts[1], parts[2]
	if len(parts) >= 4 {
		name = parts[3]
	}
	if len(parts) == 5 { // a subresource, as RBAC names it: pods/eviction
		resource += "/" + parts[4]
	}
	return group, namespace, resource, name, true
}

func rbacVerb(method, name string, watch bool) string {
	switch {
	case method == http.MethodGet && watch:
		return "watch"
	case method == http.MethodGet && name != "":
		return "get"
	case method == http.MethodGet:
		return "list"
	case method == http.MethodDelete && name != "":
		return "delete"
	case method == http.MethodDelete:
		return "deletecollection"
	case method == http.MethodPost:
		return "create"
	case method == http.MethodPut:
		return "update"
	case method == http.MethodPatch:
		return "patch"
	}
	return strings.ToLower(method)
}

func writeStatus(w http.ResponseWriter, code int, reason metav1.StatusReason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status: metav1.StatusFailure, Code: int32(code), Reason: reason, Message: msg})
}

func writeObject(w http.ResponseWriter, obj any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(obj)
}

func (fc *fakeCluster) serveAPI(w http.ResponseWriter, r *http.Request) {
	group, namespace, resource, name, ok := parseAPIPath(r.URL.Path)
	if !ok {
		fc.mu.Lock()
		fc.calls = append(fc.calls, apiCall{Verb: r.Method, Resource: r.URL.Path})
		fc.mu.Unlock()
		writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource")
		return
	}
	call := apiCall{Verb: rbacVerb(r.Method, name, r.URL.Query().Get("watch") != ""), Group: group, Resource: resource, Namespace: namespace}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.calls = append(fc.calls, call)
	if r.Header.Get("Authorization") != "Bearer "+fc.token {
		writeStatus(w, http.StatusUnauthorized, metav1.StatusReasonUnauthorized, "Unauthorized")
		return
	}
	qualified := resource
	if group != "" {
		qualified += "." + group
	}
	notFound := fmt.Sprintf("%s %q not found", qualified, name)
	switch {
	case call.Verb == "get" && group == "apps" && resource == "statefulsets":
		sts, ok := fc.sts[name]
		if !ok || namespace != ns {
			writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, notFound)
			return
		}
		writeObject(w, sts)
	case call.Verb == "get" && group == "" && resource == "pods":
		p, ok := fc.pods[name]
		if !ok || namespace != ns {
			writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, notFound)
			return
		}
		writeObject(w, p)
	case call.Verb == "delete" && group == "" && resource == "pods":
		p, ok := fc.pods[name]
		if !ok || namespace != ns {
			writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, notFound)
			return
		}
		var opts metav1.DeleteOptions
		if err := json.NewDecoder(r.Body).Decode(&opts); err != nil {
			writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, "bad DeleteOptions: "+err.Error())
			return
		}
		if pre := opts.Preconditions; pre == nil || pre.UID == nil || *pre.UID != p.UID {
			writeStatus(w, http.StatusConflict, metav1.StatusReasonConflict,
				fmt.Sprintf("Operation cannot be fulfilled on pods %q: Precondition failed: UID in object meta: %s", name, p.UID))
			return
		}
		if p.DeletionTimestamp == nil {
			fc.deleteLocked(name)
		}
		writeObject(w, p)
	case fc.servePolicyLocked(w, r, call, name, notFound):
	default:
		writeStatus(w, http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed, "the simulated API server does not serve "+call.String())
	}
}

// deleteLocked marks the pod terminating, removes it, and has the controller recreate it.
func (fc *fakeCluster) deleteLocked(name string) {
	now := metav1.Now()
	fc.pods[name].DeletionTimestamp = &now
	fc.deletions = append(fc.deletions, name)
	down := 1
	for other, st := range fc.state {
		if other != name && st != "RUNNING" {
			fc.violations = append(fc.violations, fmt.Sprintf("%s deleted while %s was %s", name, other, st))
			down++
		}
	}
	fc.maxDown = max(fc.maxDown, down)
	fc.state[name] = "DOWN"
	fc.gen++
	gen := fc.gen
	go func() {
		time.Sleep(20 * time.Millisecond) // terminating
		fc.mu.Lock()
		delete(fc.pods, name)
		fc.mu.Unlock()
		time.Sleep(20 * time.Millisecond) // the controller recreates the pod
		fc.mu.Lock()
		np := pod(name, fmt.Sprintf("%s-uid-%d", name, gen), false)
		for _, sts := range fc.sts {
			if strings.HasPrefix(name, sts.Name+"-") {
				np = fromTemplate(sts, name, fmt.Sprintf("%s-uid-%d", name, gen), false)
				np.Labels[revisionLabel] = sts.Status.UpdateRevision
				fc.pods[name] = np
				fc.countLocked(sts)
			}
		}
		fc.pods[name] = np
		fc.state[name] = "STARTING"
		fc.mu.Unlock()
		time.Sleep(fc.startDelay)
		fc.mu.Lock()
		if fc.pods[name] == np {
			np.Status.Conditions[0].Status = corev1.ConditionTrue
		}
		fc.state[name] = "RUNNING"
		fc.mu.Unlock()
	}()
}

// countLocked sets sts's status as the controller does: replicas and updatedReplicas counted from
// the pods' revision labels; with RollingUpdate, currentRevision moves forward once every pod runs
// the update revision (with OnDelete the controller never moves it).
func (fc *fakeCluster) countLocked(sts *appsv1.StatefulSet) {
	var n, updated int32
	for _, name := range podNames(sts) {
		if p := fc.pods[name]; p != nil {
			n++
			if p.Labels[revisionLabel] == sts.Status.UpdateRevision {
				updated++
			}
		}
	}
	sts.Status.Replicas, sts.Status.UpdatedReplicas = n, updated
	if sts.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType && updated == *sts.Spec.Replicas {
		sts.Status.CurrentRevision = sts.Status.UpdateRevision
	}
}

// helmUpgrade is what `helm upgrade` with a changed template does to the StatefulSet: a new
// generation, observed by the controller, whose template is a new revision. No pod is replaced
// here: the tests use OnDelete or a partition, or look before the controller would act.
func (fc *fakeCluster) helmUpgrade(name, revision string) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	sts := fc.sts[name]
	sts.Generation++
	sts.Status.ObservedGeneration = sts.Generation
	sts.Status.UpdateRevision = revision
	fc.countLocked(sts)
}

// helmStatefulSet is the StatefulSet of a rendered Helm chart (../shared/realcases/helm), decoded
// as the API server would return it.
func helmStatefulSet(t *testing.T, file string) *appsv1.StatefulSet {
	t.Helper()
	f, err := os.Open(filepath.Join(testenv.Realcases(t), "helm", file))
	if err != nil {
		t.Fatalf("rendered Helm manifests: %v", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("%s: no StatefulSet (%v)", file, err)
		}
		if doc["kind"] != "StatefulSet" {
			continue
		}
		data, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		var sts appsv1.StatefulSet
		if err := json.Unmarshal(data, &sts); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		return &sts
	}
}
