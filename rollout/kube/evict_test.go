package kube

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/reauth/reauth/rollout"
)

// jiraPDB is a PodDisruptionBudget selecting the Jira chart's pods, at most one unavailable.
func jiraPDB() policyv1.PodDisruptionBudget {
	one := intstr.FromInt32(1)
	return policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "jira-pdb", Namespace: ns},
		Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &one,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "jira", "app.kubernetes.io/instance": "jira"}}}}
}

func (fc *fakeCluster) setReady(pod string, ready bool) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	fc.pods[pod].Status.Conditions[0].Status = st
}

// With a PodDisruptionBudget selecting the pods, each pod is evicted (the budget is honoured), the
// plan says so, and the whole rolling restart goes through the eviction API.
func TestEvictionWhereBudgetSelectsPods(t *testing.T) {
	fc := helmJira(t, appsv1.RollingUpdateStatefulSetStrategyType)
	fc.pdbs = []policyv1.PodDisruptionBudget{jiraPDB()}
	ctx := context.Background()
	f, err := Find(ctx, fc.client(t), ns, Config{StatefulSet: "jira", URLTemplate: fc.srv.URL + "/{pod}"}, jira(t))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(notes(f), "PodDisruptionBudget jira-pdb selects the pods: each pod is evicted") {
		t.Errorf("notes:\n%s", notes(f))
	}
	plan := rollout.Plan{Product: jira(t), Nodes: f.Nodes}
	if _, err := rollout.Run(ctx, plan, rolloutOpts()); err != nil {
		t.Fatal(err)
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if e, d := strings.Join(fc.evictions, ","), strings.Join(fc.deletions, ","); e != "jira-2,jira-1,jira-0" || e != d {
		t.Errorf("evicted %s, deleted %s", e, d)
	}
}

// An eviction the budget refuses (another pod is not Ready) is retried until the budget allows
// it, and fails, deleting nothing, when it never does.
func TestEvictionRefusedByBudget(t *testing.T) {
	fc := helmJira(t, appsv1.RollingUpdateStatefulSetStrategyType)
	fc.pdbs = []policyv1.PodDisruptionBudget{jiraPDB()}
	ctx := context.Background()
	nodes, err := Nodes(ctx, fc.client(t), ns, Config{StatefulSet: "jira"}, jira(t))
	if err != nil {
		t.Fatal(err)
	}
	r := nodes[0].Restarter.(*PodRestarter)
	r.EvictPoll, r.EvictWait = time.Millisecond, time.Minute
	fc.setReady("jira-0", false) // a disruption reauth did not make
	go func() {                  // it ends once the budget has refused once
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			fc.mu.Lock()
			n := fc.refusals
			fc.mu.Unlock()
			if n > 0 {
				fc.setReady("jira-0", true)
				return
			}
		}
	}()
	var log bytes.Buffer
	if err := r.Restart(ctx, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "eviction refused by its PodDisruptionBudget") || !strings.Contains(log.String(), "evicted pod atlassian/jira-2") {
		t.Errorf("log: %s", log.String())
	}

	fc.setReady("jira-0", false)
	r = nodes[1].Restarter.(*PodRestarter)
	r.EvictPoll, r.EvictWait = time.Millisecond, 20*time.Millisecond
	err = r.Restart(ctx, &log)
	if err == nil || !strings.Contains(err.Error(), "its PodDisruptionBudget refused") || !strings.Contains(err.Error(), "nothing was deleted") {
		t.Fatalf("err = %v", err)
	}
	if d := fc.deleted(); strings.Join(d, ",") != "jira-2" {
		t.Errorf("deleted %v", d)
	}
}

// Without a budget selecting the pods (one for other pods does not count), a pod is deleted.
func TestDeleteWhereNoBudgetSelects(t *testing.T) {
	fc := helmJira(t, appsv1.RollingUpdateStatefulSetStrategyType)
	other := jiraPDB()
	other.Spec.Selector.MatchLabels["app.kubernetes.io/instance"] = "other"
	fc.pdbs = []policyv1.PodDisruptionBudget{other}
	f, err := Find(context.Background(), fc.client(t), ns, Config{StatefulSet: "jira"}, jira(t))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(notes(f), "no PodDisruptionBudget selects the pods: each pod is deleted") || f.Nodes[0].Restarter.(*PodRestarter).Evict {
		t.Errorf("notes:\n%s", notes(f))
	}
	if err := f.Nodes[0].Restarter.Restart(context.Background(), &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if len(fc.evictions) != 0 || strings.Join(fc.deletions, ",") != "jira-2" {
		t.Errorf("evicted %v, deleted %v", fc.evictions, fc.deletions)
	}
}
