package kube

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/rollout"
)

func confluence(t *testing.T) atlassian.Product {
	p, err := atlassian.Lookup("confluence")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRollingRestartHighestOrdinalFirst(t *testing.T) {
	fc := newFakeCluster(t, 3, 150*time.Millisecond)
	cfg := Config{StatefulSet: "confluence", URLTemplate: fc.srv.URL + "/{pod}"}
	ctx := context.Background()
	nodes, err := Nodes(ctx, fc.client(t), ns, cfg, confluence(t))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range nodes {
		names = append(names, n.Name)
	}
	if strings.Join(names, ",") != "confluence-2,confluence-1,confluence-0" {
		t.Fatalf("order = %v", names)
	}
	if svc := nodes[0].Restarter.(*PodRestarter).Config.Service; svc != "confluence-headless" {
		t.Errorf("{service} = %q, want the StatefulSet's serviceName", svc)
	}
	plan := rollout.Plan{Product: confluence(t), Nodes: nodes}
	opts := rollout.Options{StartTimeout: 10 * time.Second, PollInterval: 10 * time.Millisecond, MaxPoll: 50 * time.Millisecond, StableWindow: 100 * time.Millisecond}
	if err := rollout.Preflight(ctx, plan, opts); err != nil {
		t.Fatal(err)
	}
	res, err := rollout.Run(ctx, plan, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range res.Nodes {
		if !n.Restarted || !n.WentDown || n.ReadyAfterMS < 150 {
			t.Errorf("%+v", n)
		}
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if strings.Join(fc.deletions, ",") != "confluence-2,confluence-1,confluence-0" {
		t.Errorf("deleted %v", fc.deletions)
	}
	if len(fc.violations) > 0 {
		t.Errorf("not one at a time: %v", fc.violations)
	}
	for i := 0; i < 3; i++ {
		p := fc.pods[fmt.Sprintf("confluence-%d", i)]
		if p == nil || strings.HasSuffix(string(p.UID), "-uid-1") {
			t.Errorf("pod confluence-%d was not replaced: %+v", i, p)
		}
	}
}

// --max-unavailable 2 on four pods: two deleted at a time (highest ordinals first), the next two
// only once both are Ready and RUNNING again.
func TestWavesDeleteTwoPodsAtATime(t *testing.T) {
	fc := newFakeCluster(t, 4, 150*time.Millisecond)
	cfg := Config{StatefulSet: "confluence", URLTemplate: fc.srv.URL + "/{pod}"}
	ctx := context.Background()
	nodes, err := Nodes(ctx, fc.client(t), ns, cfg, confluence(t))
	if err != nil {
		t.Fatal(err)
	}
	plan := rollout.Plan{Product: confluence(t), Nodes: nodes}
	opts := rollout.Options{StartTimeout: 10 * time.Second, PollInterval: 10 * time.Millisecond, MaxPoll: 50 * time.Millisecond,
		StableWindow: 100 * time.Millisecond, MaxUnavailable: reauth.Unavailable{Count: 2}}
	if err := rollout.Preflight(ctx, plan, opts); err != nil {
		t.Fatal(err)
	}
	res, err := rollout.Run(ctx, plan, opts)
	if err != nil {
		t.Fatal(err)
	}
	waves := map[string]int{}
	for _, n := range res.Nodes {
		waves[n.Name] = n.Wave
		if !n.Restarted || !n.WentDown {
			t.Errorf("%+v", n)
		}
	}
	if waves["confluence-3"] != 1 || waves["confluence-2"] != 1 || waves["confluence-1"] != 2 || waves["confluence-0"] != 2 {
		t.Errorf("waves = %v", waves)
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if fc.maxDown != 2 {
		t.Errorf("at most %d pod(s) down at once, want 2", fc.maxDown)
	}
	if len(fc.deletions) != 4 {
		t.Errorf("deleted %v", fc.deletions)
	}
}

// A pod that never turns Ready in Kubernetes fails the gate even if the product says RUNNING.
func TestPodNeverReady(t *testing.T) {
	fc := newFakeCluster(t, 2, time.Hour)
	ctx := context.Background()
	nodes, err := Nodes(ctx, fc.client(t), ns, Config{StatefulSet: "confluence", URLTemplate: fc.srv.URL + "/{pod}"}, confluence(t))
	if err != nil {
		t.Fatal(err)
	}
	go func() { // the product answers RUNNING early; the pod stays not Ready
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			fc.mu.Lock()
			if fc.state["confluence-1"] == "STARTING" {
				fc.state["confluence-1"] = "RUNNING"
				fc.mu.Unlock()
				return
			}
			fc.mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
	}()
	res, err := rollout.Run(ctx, rollout.Plan{Product: confluence(t), Nodes: nodes},
		rollout.Options{StartTimeout: 700 * time.Millisecond, PollInterval: 10 * time.Millisecond, MaxPoll: 50 * time.Millisecond, StableWindow: 50 * time.Millisecond})
	if reauth.CodeOf(err) != reauth.ExitFailed || res.Nodes[0].Restarted || res.Nodes[1].Status != rollout.StatusUntouched {
		t.Fatalf("err = %v, %+v", err, res.Nodes)
	}
	if !strings.Contains(res.Nodes[0].Error, "pod not Ready") {
		t.Errorf("error = %q", res.Nodes[0].Error)
	}
}

func TestNodesErrors(t *testing.T) {
	fc := newFakeCluster(t, 1, time.Millisecond)
	_, err := Nodes(context.Background(), fc.client(t), ns, Config{StatefulSet: "jira"}, confluence(t))
	if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(reauth.HintOf(err), "kubectl -n atlassian get statefulsets") {
		t.Errorf("missing sts: %v", err)
	}
	nodes, err := Nodes(context.Background(), fc.client(t), ns, Config{StatefulSet: "confluence"}, confluence(t))
	if err != nil {
		t.Fatal(err)
	}
	u, err := nodes[0].Restarter.(*PodRestarter).URL(context.Background())
	if err != nil || u != "http://10.0.0.1:8090" {
		t.Errorf("pod IP URL = %q, %v", u, err)
	}
	r := &PodRestarter{Config: Config{StatefulSet: "c", Service: "c-svc", URLTemplate: "http://{pod}.{service}.{namespace}.svc:{ordinal}"}, Pod: "c-1", Namespace: "ns", Ordinal: 1}
	if got := r.templateURL(); got != "http://c-1.c-svc.ns.svc:1" {
		t.Errorf("template = %q", got)
	}
}

// Kubeconfig, context and namespace are resolved the way kubectl resolves them.
func TestConnectResolvesLikeKubectl(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "config")
	os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
current-context: a
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443"}
users:
- name: u
  user: {token: not-a-real-token}
contexts:
- name: a
  context: {cluster: c, user: u, namespace: ns-a}
- name: b
  context: {cluster: c, user: u, namespace: ns-b}
`), 0o600)
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{Kubeconfig: kc}, "ns-a"},
		{Config{Kubeconfig: kc, Context: "b"}, "ns-b"},
		{Config{Kubeconfig: kc, Context: "b", Namespace: "explicit"}, "explicit"},
	}
	for _, tc := range cases {
		_, got, err := Connect(tc.cfg)
		if err != nil || got != tc.want {
			t.Errorf("%+v: namespace %q, %v", tc.cfg, got, err)
		}
	}
	if _, _, err := Connect(Config{Kubeconfig: kc, Context: "nope"}); reauth.CodeOf(err) != reauth.ExitRefused {
		t.Errorf("unknown context: %v", err)
	}
}
