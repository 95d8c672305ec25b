package kube

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/rollout"
)

// helmJira is the simulated cluster serving the StatefulSet of Atlassian's Jira chart as rendered
// for release "jira" (three pods), with the update strategy the test gives.
func helmJira(t *testing.T, strategy appsv1.StatefulSetUpdateStrategyType) *fakeCluster {
	sts := helmStatefulSet(t, "jira.yaml")
	if sts.Name != "jira" || *sts.Spec.Replicas != 3 || sts.Labels["app.kubernetes.io/managed-by"] != "Helm" {
		t.Fatalf("the rendered chart changed: %s, %d replicas, labels %v", sts.Name, *sts.Spec.Replicas, sts.Labels)
	}
	sts.Spec.UpdateStrategy.Type = strategy // jira-prod-ondelete-ordinal1.yaml has OnDelete
	return startFakeCluster(t, sts, 0)
}

func jira(t *testing.T) atlassian.Product {
	p, err := atlassian.Lookup("jira")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// relabel moves a pod to another revision, as the controller would when it recreates it; recount
// says whether the StatefulSet's status is updated too (a status not yet updated is stale).
func (fc *fakeCluster) relabel(pod, revision string, recount bool) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.pods[pod].Labels[revisionLabel] = revision
	if recount {
		fc.countLocked(fc.sts["jira"])
	}
}

func (fc *fakeCluster) deleted() []string {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return append([]string(nil), fc.deletions...)
}

// A template revision not every pod runs yet is refused before anything is deleted, naming both
// revisions and how to finish or undo the update: each deleted pod would come back on the new one.
func TestPendingTemplateRevisionRefused(t *testing.T) {
	cases := []struct {
		name     string
		strategy appsv1.StatefulSetUpdateStrategyType
		change   func(fc *fakeCluster)
		want     []string
	}{
		{"OnDelete after helm upgrade", appsv1.OnDeleteStatefulSetStrategyType,
			func(fc *fakeCluster) { fc.helmUpgrade("jira", "jira-5f7c9d") },
			[]string{"only 0 of 3 pods run the template's revision jira-5f7c9d, the others revision jira-rev1 (updateStrategy OnDelete)",
				"delete the pods still on the old revision yourself", "helm -n atlassian rollback jira"}},
		{"partitioned rolling update", appsv1.RollingUpdateStatefulSetStrategyType,
			func(fc *fakeCluster) {
				part := int32(2)
				fc.mu.Lock()
				fc.sts["jira"].Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: &part}
				fc.mu.Unlock()
				fc.helmUpgrade("jira", "jira-5f7c9d")
				fc.relabel("jira-2", "jira-5f7c9d", true) // the controller updated the pods at or above the partition
			},
			[]string{"only 1 of 3 pods run the template's revision jira-5f7c9d, the others revision jira-rev1 (updateStrategy RollingUpdate, partition 2)",
				"kubectl -n atlassian rollout status statefulset/jira"}},
		{"rolling update not finished", appsv1.RollingUpdateStatefulSetStrategyType,
			func(fc *fakeCluster) {
				fc.helmUpgrade("jira", "jira-5f7c9d")
				fc.mu.Lock()
				fc.sts["jira"].Status.UpdatedReplicas = 3 // every pod updated, one not yet Ready: currentRevision not moved
				fc.mu.Unlock()
			},
			[]string{"its rolling update from revision jira-rev1 to jira-5f7c9d has not finished"}},
		{"spec not yet observed", appsv1.RollingUpdateStatefulSetStrategyType,
			func(fc *fakeCluster) { fc.mu.Lock(); fc.sts["jira"].Generation++; fc.mu.Unlock() },
			[]string{"its controller has not yet seen its latest spec (generation 2, observed 1)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fc := helmJira(t, tc.strategy)
			tc.change(fc)
			_, err := Nodes(context.Background(), fc.client(t), ns, Config{StatefulSet: "jira"}, jira(t))
			if reauth.CodeOf(err) != reauth.ExitRefused {
				t.Fatalf("err = %v, want refused (exit 4)", err)
			}
			said := err.Error() + " " + reauth.HintOf(err)
			for _, w := range append(tc.want, "template update pending", "nothing was deleted") {
				if !strings.Contains(said, w) {
					t.Errorf("%s\nwant it to say %q", said, w)
				}
			}
			if d := fc.deleted(); len(d) > 0 {
				t.Errorf("deleted %v", d)
			}
		})
	}
}

// A pod on another revision than the template's is refused by the preflight, even while the
// StatefulSet's status does not show it yet.
func TestPodOnOtherRevisionRefused(t *testing.T) {
	fc := helmJira(t, appsv1.OnDeleteStatefulSetStrategyType)
	fc.relabel("jira-1", "jira-0ld", false)
	nodes, err := Nodes(context.Background(), fc.client(t), ns, Config{StatefulSet: "jira"}, jira(t))
	if err != nil {
		t.Fatal(err)
	}
	err = nodes[1].Restarter.Preflight(context.Background())
	if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "pod jira-1 runs revision jira-0ld, the template is revision jira-rev1") {
		t.Fatalf("preflight: %v", err)
	}
	if err := nodes[0].Restarter.Preflight(context.Background()); err != nil {
		t.Errorf("jira-2 is on the template's revision: %v", err)
	}
}

// An OnDelete update the admin finished (every pod deleted and back on the new revision) is not
// pending, although the controller never moves status.currentRevision forward with OnDelete.
func TestFinishedOnDeleteUpdateNotRefused(t *testing.T) {
	fc := helmJira(t, appsv1.OnDeleteStatefulSetStrategyType)
	fc.helmUpgrade("jira", "jira-5f7c9d")
	for _, p := range []string{"jira-0", "jira-1", "jira-2"} {
		fc.relabel(p, "jira-5f7c9d", true)
	}
	fc.mu.Lock()
	st := fc.sts["jira"].Status
	fc.mu.Unlock()
	if st.CurrentRevision != "jira-rev1" || st.UpdatedReplicas != 3 {
		t.Fatalf("status = %+v", st)
	}
	nodes, err := Nodes(context.Background(), fc.client(t), ns, Config{StatefulSet: "jira", URLTemplate: fc.srv.URL + "/{pod}"}, jira(t))
	if err != nil {
		t.Fatal(err)
	}
	plan := rollout.Plan{Product: jira(t), Nodes: nodes}
	if err := rollout.Preflight(context.Background(), plan, rolloutOpts()); err != nil {
		t.Fatal(err)
	}
}

func rolloutOpts() rollout.Options {
	return rollout.Options{StartTimeout: 10 * time.Second, PollInterval: 10 * time.Millisecond, MaxPoll: 50 * time.Millisecond, StableWindow: 50 * time.Millisecond}
}

// A `helm upgrade` during the run (OnDelete, as the chart's docs propose for upgrades) stops it
// before the next delete: the revision is checked again before each pod.
func TestUpgradeDuringRunStopsBeforeNextDelete(t *testing.T) {
	fc := helmJira(t, appsv1.OnDeleteStatefulSetStrategyType)
	ctx := context.Background()
	nodes, err := Nodes(ctx, fc.client(t), ns, Config{StatefulSet: "jira", URLTemplate: fc.srv.URL + "/{pod}"}, jira(t))
	if err != nil {
		t.Fatal(err)
	}
	plan := rollout.Plan{Product: jira(t), Nodes: nodes}
	opts := rolloutOpts()
	if err := rollout.Preflight(ctx, plan, opts); err != nil {
		t.Fatal(err)
	}
	calls := 0
	opts.BeforeNode = func(context.Context) error {
		if calls++; calls == 2 { // after the first pod is back: someone upgrades the release
			fc.helmUpgrade("jira", "jira-5f7c9d")
		}
		return nil
	}
	res, err := rollout.Run(ctx, plan, opts)
	if reauth.CodeOf(err) != reauth.ExitPartial {
		t.Fatalf("err = %v, want a partial run", err)
	}
	if d := fc.deleted(); strings.Join(d, ",") != "jira-2" {
		t.Errorf("deleted %v, want jira-2 only", d)
	}
	if !res.Nodes[0].Restarted || res.Nodes[1].Restarted || !strings.Contains(res.Nodes[1].Error, "pod jira-1 not deleted") ||
		!strings.Contains(res.Nodes[1].Error, "revision jira-5f7c9d") || !strings.Contains(res.Nodes[1].Error, "helm -n atlassian rollback jira") {
		t.Errorf("nodes = %+v", res.Nodes)
	}
}
