package kube

import (
	"context"
	"fmt"

	"github.com/reauth/reauth"
)

// A StatefulSet's controller recreates a deleted pod from the template's newest revision
// (status.updateRevision). When some pods still run an older one (updateStrategy OnDelete after a
// `helm upgrade`, which Atlassian's chart docs propose for upgrades; a partitioned or unfinished
// rolling update), each pod reauth deletes would come back changed: a product upgrade or a config
// change in the middle of an incident. reauth refuses then, at the plan and again before each
// delete.

// pendingUpdate says why deleting sts's pods would roll out a template revision not all of them
// run yet; "" when there is none. status.currentRevision alone does not decide it: with OnDelete
// the controller never moves it forward, even once every pod runs the new revision.
func pendingUpdate(sts *StatefulSet) string {
	st := sts.Status
	if st.UpdateRevision == "" {
		return "" // an API server that does not report revisions: nothing to compare
	}
	if sts.Metadata.Generation > st.ObservedGeneration {
		return fmt.Sprintf("its controller has not yet seen its latest spec (generation %d, observed %d)",
			sts.Metadata.Generation, st.ObservedGeneration)
	}
	replicas := int32(1)
	if sts.Spec.Replicas != nil {
		replicas = *sts.Spec.Replicas
	}
	strategy := sts.Spec.UpdateStrategy.Type
	if strategy == "" {
		strategy = "RollingUpdate"
	}
	how := "updateStrategy " + strategy
	if ru := sts.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil && *ru.Partition > 0 {
		how += fmt.Sprintf(", partition %d", *ru.Partition)
	}
	if st.UpdatedReplicas < replicas {
		return fmt.Sprintf("only %d of %d pods run the template's revision %s, the others revision %s (%s)",
			st.UpdatedReplicas, replicas, st.UpdateRevision, st.CurrentRevision, how)
	}
	if strategy == "RollingUpdate" && st.CurrentRevision != "" && st.CurrentRevision != st.UpdateRevision {
		return fmt.Sprintf("its rolling update from revision %s to %s has not finished (%s)", st.CurrentRevision, st.UpdateRevision, how)
	}
	return ""
}

// updateRefused is the refusal of a pending template update: what differs, both revisions, and
// how to finish or undo the update first.
func updateRefused(sts *StatefulSet, namespace, why string) error {
	name := sts.Metadata.Name
	finish := fmt.Sprintf("kubectl -n %s rollout status statefulset/%s", namespace, name)
	if sts.Spec.UpdateStrategy.Type == "OnDelete" {
		finish = fmt.Sprintf("with OnDelete, delete the pods still on the old revision yourself, one at a time (kubectl -n %s get pods -L %s)", namespace, revisionLabel)
	}
	undo := fmt.Sprintf("kubectl -n %s rollout undo statefulset/%s", namespace, name)
	if release := sts.Metadata.Labels["app.kubernetes.io/instance"]; release != "" && sts.Metadata.Labels["app.kubernetes.io/managed-by"] == "Helm" {
		undo = fmt.Sprintf("helm -n %s rollback %s", namespace, release)
	}
	return reauth.Refused(fmt.Sprintf("finish the update first (%s) or undo it (%s), then run reauth again", finish, undo),
		"kubernetes: statefulset %s/%s has a template update pending: %s. Each pod reauth deletes would come back on revision %s, "+
			"changing the product in the middle of the restart: nothing was deleted for this", namespace, name, why, sts.Status.UpdateRevision)
}

// currentPod reads the StatefulSet and the pod again and refuses when the pod would not come back
// as it is: a pending template update, or the pod itself on another revision than the template's.
func (r *PodRestarter) currentPod(ctx context.Context) (*Pod, error) {
	sts, err := r.Client.GetStatefulSet(ctx, r.Namespace, r.Config.StatefulSet)
	if err != nil {
		return nil, reauth.Refused(fmt.Sprintf("check access: kubectl -n %s get statefulset %s", r.Namespace, r.Config.StatefulSet),
			"kubernetes: statefulset %s/%s: %v", r.Namespace, r.Config.StatefulSet, err)
	}
	if why := pendingUpdate(sts); why != "" {
		return nil, updateRefused(sts, r.Namespace, why)
	}
	pod, err := r.Client.GetPod(ctx, r.Namespace, r.Pod)
	if err != nil {
		return nil, reauth.Refused(fmt.Sprintf("check access: kubectl -n %s get pod %s", r.Namespace, r.Pod), "kubernetes: pod %s/%s: %v", r.Namespace, r.Pod, err)
	}
	if h, want := pod.Metadata.Labels[revisionLabel], sts.Status.UpdateRevision; h != "" && want != "" && h != want {
		return nil, updateRefused(sts, r.Namespace, fmt.Sprintf("pod %s runs revision %s, the template is revision %s", r.Pod, h, want))
	}
	return pod, nil
}
