package methods

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/rollout/execmethod"
	"github.com/reauth/reauth/rollout/sshmethod"
)

func TestPlanFromInventory(t *testing.T) {
	dir := t.TempDir()
	src := `defaults: {start_timeout: 5m, poll_interval: 3s, stable_window: 4s}
products:
  - product: fisheye
    status_path: /api/ping
    install: /opt/fecru
    start_timeout: 7m
    drain: {before: "lb out", after: "lb in"}
    nodes:
      - {name: a, url: "http://127.0.0.1:8060", restart: {exec: {stop: "s", start: "t", timeout: 1m}}}
      - {name: b, url: "http://127.0.0.2:8060", install: /srv/b, restart: {ssh: {host: h, user: ops, command: c, key_file: k, known_hosts: "~/kh"}}}
`
	path := filepath.Join(dir, "reauth.yaml")
	os.WriteFile(path, []byte(src), 0o600)
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p := &inv.Products[0]
	env := map[string]string{"HOME": "/home/op"}
	plan, closeAll, err := Plan(context.Background(), inv, p, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	if plan.Product.Ready.Path != "/api/ping" || plan.Drain.Before != "lb out" || len(plan.Nodes) != 2 {
		t.Fatalf("plan = %+v", plan)
	}
	a, ok := plan.Nodes[0].Restarter.(*execmethod.Restarter)
	if !ok || a.StopCmd != "s" || a.Timeout != time.Minute || plan.Nodes[0].Install != "/opt/fecru" || !a.CanStopStart() {
		t.Errorf("node a = %+v install %q", a, plan.Nodes[0].Install)
	}
	if _, ok := plan.Nodes[1].Restarter.(*sshmethod.Restarter); !ok || plan.Nodes[1].Install != "/srv/b" {
		t.Errorf("node b = %+v", plan.Nodes[1])
	}
	o := Options(inv, p)
	if o.StartTimeout != 7*time.Minute || o.MaxPoll != 3*time.Second || o.StableWindow != 4*time.Second {
		t.Errorf("options = %+v", o)
	}
	if got := JournalPath(inv, p); got != filepath.Join(dir, ".reauth-journal-fisheye.json") {
		t.Errorf("journal = %s", got)
	}
}

func TestKubernetesUnreachableIsRefused(t *testing.T) {
	dir := t.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	os.WriteFile(kc, []byte("apiVersion: v1\nkind: Config\ncurrent-context: x\nclusters:\n- name: c\n  cluster: {server: \"http://127.0.0.1:1\"}\ncontexts:\n- name: x\n  context: {cluster: c, namespace: atl}\nusers: []\n"), 0o600)
	src := "products:\n  - product: confluence\n    kubernetes: {statefulset: confluence, kubeconfig: kubeconfig}\n"
	path := filepath.Join(dir, "reauth.yaml")
	os.WriteFile(path, []byte(src), 0o600)
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _, err = Plan(ctx, inv, &inv.Products[0], os.Getenv)
	if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "atl/confluence") {
		t.Errorf("err = %v", err)
	}
}

// What the kubeconfig holds that kubectl ignores (a misspelled key) reaches the plan as a warning,
// to be said before anything is restarted.
func TestKubeconfigWarningsInPlan(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/apis/apps/v1/namespaces/atl/statefulsets/confluence" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"kind":"StatefulSet","apiVersion":"apps/v1","metadata":{"name":"confluence"},"spec":{"replicas":2}}`))
	}))
	defer api.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "kubeconfig"), []byte("current-context: x\nclusters:\n- name: c\n  cluster: {server: \""+api.URL+
		"\"}\ncontexts:\n- name: x\n  context: {cluster: c, namespace: atl, Namespace: prod}\n"), 0o600)
	path := filepath.Join(dir, "reauth.yaml")
	os.WriteFile(path, []byte("products:\n  - product: confluence\n    kubernetes: {statefulset: confluence, kubeconfig: kubeconfig}\n"), 0o600)
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	plan, closeAll, err := Plan(context.Background(), inv, &inv.Products[0], os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	if len(plan.Nodes) != 2 || len(plan.Warnings) == 0 || !strings.Contains(plan.Warnings[0], `"Namespace" is not a kubeconfig key (did you mean namespace?)`) {
		t.Errorf("nodes %d, warnings %q", len(plan.Nodes), plan.Warnings)
	}
	// What the kubernetes method read of the StatefulSet reaches the plan too (kube.Found.Notes).
	if w := strings.Join(plan.Warnings, "\n"); !strings.Contains(w, "Tomcat session persistence not checked, and not needed on Kubernetes") ||
		!strings.Contains(w, "PodDisruptionBudgets not read") {
		t.Errorf("warnings %q", plan.Warnings)
	}
}

// A kubeconfig that is a FIFO is refused at once instead of blocking the read.
func TestKubeconfigFIFORefused(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "kubeconfig"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "reauth.yaml")
	os.WriteFile(path, []byte("products:\n  - product: confluence\n    kubernetes: {statefulset: confluence, kubeconfig: kubeconfig}\n"), 0o600)
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, _, err := Plan(context.Background(), inv, &inv.Products[0], os.Getenv); done <- err }()
	select {
	case err := <-done:
		if reauth.CodeOf(err) != reauth.ExitUsage || !strings.Contains(err.Error(), "named pipe") {
			t.Fatalf("err = %v (exit %d), want exit 2 saying named pipe", err, reauth.CodeOf(err))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Plan still reading the kubeconfig FIFO after 5s")
	}
}
