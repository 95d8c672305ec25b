package kube

import (
	"encoding/json"
	"fmt"
	"net/http"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// podNames are the names of sts's pods as its controller numbers them: from spec.ordinals.start.
func podNames(sts *appsv1.StatefulSet) []string {
	start := int32(0)
	if sts.Spec.Ordinals != nil {
		start = sts.Spec.Ordinals.Start
	}
	var out []string
	for i := start; i < start+*sts.Spec.Replicas; i++ {
		out = append(out, fmt.Sprintf("%s-%d", sts.Name, i))
	}
	return out
}

// fromTemplate is a pod as sts's controller creates it: the template's labels and spec, an IP.
func fromTemplate(sts *appsv1.StatefulSet, name, uid string, ready bool) *corev1.Pod {
	p := pod(name, uid, ready)
	if len(sts.Spec.Template.Spec.Containers) == 0 {
		return p // a StatefulSet written by hand in a test, without a template
	}
	p.Spec = *sts.Spec.Template.Spec.DeepCopy()
	p.Labels = map[string]string{}
	for k, v := range sts.Spec.Template.Labels {
		p.Labels[k] = v
	}
	return p
}

// servePolicyLocked answers the calls beyond get/delete: a label-selected list of StatefulSets,
// the list of PodDisruptionBudgets, and an eviction (refused with 429 while the budget would be
// exceeded, as the API server's eviction subresource does). It reports whether it answered.
func (fc *fakeCluster) servePolicyLocked(w http.ResponseWriter, r *http.Request, call apiCall, name, notFound string) bool {
	switch {
	case fc.forbidden[call.Resource]:
		writeStatus(w, http.StatusForbidden, metav1.StatusReasonForbidden, fmt.Sprintf("%s %q is forbidden: User \"system:serviceaccount:%s:reauth\" cannot %s resource %q in API group %q in the namespace %q",
			call.Resource, name, ns, call.Verb, call.Resource, call.Group, call.Namespace))
	case call.Verb == "get" && call.Group == "" && call.Resource == "secrets":
		s, ok := fc.secrets[name]
		if !ok {
			writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, notFound)
			return true
		}
		writeObject(w, s)
	case call.Verb == "list" && call.Group == "apps" && call.Resource == "statefulsets":
		sel, err := labels.Parse(r.URL.Query().Get("labelSelector"))
		if err != nil {
			writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, "unable to parse requirement: "+err.Error())
			return true
		}
		list := appsv1.StatefulSetList{TypeMeta: metav1.TypeMeta{Kind: "StatefulSetList", APIVersion: "apps/v1"}}
		for _, sts := range fc.sts {
			if sel.Matches(labels.Set(sts.Labels)) {
				list.Items = append(list.Items, *sts)
			}
		}
		writeObject(w, list)
	case call.Verb == "list" && call.Group == "policy" && call.Resource == "poddisruptionbudgets":
		writeObject(w, policyv1.PodDisruptionBudgetList{TypeMeta: metav1.TypeMeta{Kind: "PodDisruptionBudgetList", APIVersion: "policy/v1"}, Items: fc.pdbs})
	case call.Verb == "create" && call.Group == "" && call.Resource == "pods/eviction":
		fc.evictLocked(w, r, name, notFound)
	default:
		return false
	}
	return true
}

func (fc *fakeCluster) evictLocked(w http.ResponseWriter, r *http.Request, name, notFound string) {
	p, ok := fc.pods[name]
	if !ok {
		writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, notFound)
		return
	}
	var ev policyv1.Eviction
	if err := json.NewDecoder(r.Body).Decode(&ev); err != nil || ev.Name != name || ev.DeleteOptions == nil {
		writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, fmt.Sprintf("bad Eviction (%v): %+v", err, ev))
		return
	}
	if pre := ev.DeleteOptions.Preconditions; pre == nil || pre.UID == nil || *pre.UID != p.UID {
		writeStatus(w, http.StatusConflict, metav1.StatusReasonConflict,
			fmt.Sprintf("Operation cannot be fulfilled on pods %q: Precondition failed: UID in object meta: %s", name, p.UID))
		return
	}
	for _, b := range fc.pdbs {
		sel, err := metav1.LabelSelectorAsSelector(b.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(p.Labels)) {
			continue
		}
		if fc.unavailableLocked(sel, name) >= b.Spec.MaxUnavailable.IntValue() {
			fc.refusals++
			writeStatus(w, http.StatusTooManyRequests, metav1.StatusReasonTooManyRequests,
				"Cannot evict pod as it would violate the pod's disruption budget.")
			return
		}
	}
	if p.DeletionTimestamp == nil {
		fc.evictions = append(fc.evictions, name)
		fc.deleteLocked(name)
	}
	w.WriteHeader(http.StatusCreated)
	writeObject(w, metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess, Code: 201})
}

// unavailableLocked counts the StatefulSets' pods sel selects, other than except, that are missing
// (deleted, not yet recreated) or not Ready: what a budget counts as disrupted.
func (fc *fakeCluster) unavailableLocked(sel labels.Selector, except string) int {
	n := 0
	for _, sts := range fc.sts {
		if !sel.Matches(labels.Set(sts.Spec.Template.Labels)) {
			continue
		}
		for _, name := range podNames(sts) {
			if name == except {
				continue
			}
			if p := fc.pods[name]; p == nil {
				n++
			} else if ok, _ := podReady(toPod(p)); !ok {
				n++
			}
		}
	}
	return n
}

func toPod(p *corev1.Pod) *Pod {
	out := &Pod{Metadata: ObjectMeta{Name: p.Name}}
	if p.DeletionTimestamp != nil {
		t := p.DeletionTimestamp.Time
		out.Metadata.DeletionTimestamp = &t
	}
	for _, c := range p.Status.Conditions {
		out.Status.Conditions = append(out.Status.Conditions, PodCondition{Type: string(c.Type), Status: string(c.Status)})
	}
	out.Status.Phase = string(p.Status.Phase)
	return out
}
