package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/rollout"
)

// releaseLabel is the label Helm charts (Atlassian's among them) put on every object of a
// release, with the release name as its value.
const releaseLabel = "app.kubernetes.io/instance"

// Found is what Find read of a product's StatefulSet: its pods as nodes, highest ordinal first,
// and what the plan should say about them before anything is touched.
type Found struct {
	StatefulSet string // the name found (it may differ from the one given: statefulSet)
	Nodes       []rollout.Node
	// Notes are said with the plan: how the StatefulSet was found, what each delete loses, whether
	// PodDisruptionBudgets apply, what need not be checked.
	Notes []string
}

// Nodes lists the StatefulSet's pods as rollout nodes, highest ordinal first (Find without its
// notes).
func Nodes(ctx context.Context, client *Client, namespace string, cfg Config, p atlassian.Product) ([]rollout.Node, error) {
	f, err := Find(ctx, client, namespace, cfg, p)
	if err != nil {
		return nil, err
	}
	return f.Nodes, nil
}

// Find reads the StatefulSet (by name, else by its Helm release label), refuses a pending template
// update, and returns its pods, numbered from spec.ordinals.start, as rollout nodes.
func Find(ctx context.Context, client *Client, namespace string, cfg Config, p atlassian.Product) (*Found, error) {
	sts, notes, err := statefulSet(ctx, client, namespace, cfg.StatefulSet)
	if err != nil {
		return nil, err
	}
	if why := pendingUpdate(sts); why != "" {
		return nil, updateRefused(sts, namespace, why)
	}
	cfg.StatefulSet = sts.Metadata.Name
	if cfg.Service == "" {
		cfg.Service = sts.Spec.ServiceName
		if cfg.Service == "" {
			cfg.Service = cfg.StatefulSet
		}
	}
	replicas, start := 1, 0
	if sts.Spec.Replicas != nil {
		replicas = int(*sts.Spec.Replicas)
	}
	if o := sts.Spec.Ordinals; o != nil {
		start = int(o.Start)
	}
	c := productContainer(&sts.Spec.Template.Spec, string(p.ID))
	evict, pdbNote := disruptionBudgets(ctx, client, namespace, sts)
	notes = append(notes, pdbNote)
	if n := localHomeNote(sts, c, p); n != "" {
		notes = append(notes, n)
	}
	notes = append(notes, "Tomcat session persistence not checked, and not needed on Kubernetes: a deleted pod comes back "+
		"as a new container, and Atlassian's images and charts keep no sessions across that (Tomcat's <Manager pathname=\"\"/>, "+
		"its work directory inside the container)")
	f := &Found{StatefulSet: cfg.StatefulSet, Notes: notes}
	for i := start + replicas - 1; i >= start; i-- {
		pod := fmt.Sprintf("%s-%d", cfg.StatefulSet, i)
		r := &PodRestarter{Client: client, Namespace: namespace, Pod: pod, Ordinal: i, Config: cfg, Port: p.DefaultPort,
			Evict: evict, container: containerName(c), env: literalEnv(c)}
		url := r.templateURL()
		if url == "" {
			url = "pod " + namespace + "/" + pod
		}
		f.Nodes = append(f.Nodes, rollout.Node{Name: pod, URL: url, Restarter: r})
	}
	return f, nil
}

// statefulSet gets the StatefulSet by name. When that name does not exist it looks for one whose
// Helm release label is that name: the charts name the StatefulSet after the release only when
// the release name contains the chart's, else <release>-<chart> (or fullnameOverride), and
// people give the release name.
func statefulSet(ctx context.Context, client *Client, namespace, name string) (*StatefulSet, []string, error) {
	sts, err := client.GetStatefulSet(ctx, namespace, name)
	if err == nil {
		return sts, nil, nil
	}
	hint := fmt.Sprintf("check kubernetes.statefulset/namespace (kubectl -n %s get statefulsets) and that your account may read it", namespace)
	if !IsNotFound(err) {
		return nil, nil, reauth.Refused(hint, "kubernetes: statefulset %s/%s: %v", namespace, name, err)
	}
	list, lerr := client.ListStatefulSets(ctx, namespace, releaseLabel+"="+name)
	if lerr != nil {
		return nil, nil, reauth.Refused(hint, "kubernetes: statefulset %s/%s: %v; looking for it by its Helm release label %s=%s: %v",
			namespace, name, err, releaseLabel, name, lerr)
	}
	switch len(list) {
	case 0:
		return nil, nil, reauth.Refused(hint+"; Atlassian's charts name it <release> when the release name contains the chart's name, "+
			"else <release>-<chart> (e.g. prod-jira), or fullnameOverride",
			"kubernetes: statefulset %s/%s: %v, and no StatefulSet has the Helm release label %s=%s", namespace, name, err, releaseLabel, name)
	case 1:
		found := &list[0]
		note := fmt.Sprintf("kubernetes: no StatefulSet %s/%s; found %s by its Helm release label %s=%s (write statefulset: %s in the inventory to say so)",
			namespace, name, found.Metadata.Name, releaseLabel, name, found.Metadata.Name)
		return found, []string{note}, nil
	}
	var names []string
	for _, s := range list {
		names = append(names, s.Metadata.Name)
	}
	sort.Strings(names)
	return nil, nil, reauth.Refused("name one of them in kubernetes.statefulset",
		"kubernetes: no StatefulSet %s/%s, and release %s has several: %s", namespace, name, name, strings.Join(names, ", "))
}

// disruptionBudgets says whether a PodDisruptionBudget selects the StatefulSet's pods (then each
// pod is evicted, which honours it, rather than deleted, which ignores it) and what the plan says
// about it.
func disruptionBudgets(ctx context.Context, client *Client, namespace string, sts *StatefulSet) (bool, string) {
	pdbs, err := client.ListPodDisruptionBudgets(ctx, namespace)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == 403 {
			err = fmt.Errorf("%w (allow list poddisruptionbudgets in the policy group: see deploy/kubernetes)", err)
		}
		return false, fmt.Sprintf("kubernetes: PodDisruptionBudgets not read (%v): each pod is deleted, which a PodDisruptionBudget does not stop", err)
	}
	labels := sts.Spec.Template.Metadata.Labels
	var names []string
	for _, b := range pdbs {
		if b.Spec.Selector != nil && selects(b.Spec.Selector, labels) {
			names = append(names, b.Metadata.Name)
		}
	}
	if len(names) == 0 {
		return false, "kubernetes: no PodDisruptionBudget selects the pods: each pod is deleted"
	}
	return true, fmt.Sprintf("kubernetes: PodDisruptionBudget %s selects the pods: each pod is evicted (the eviction API, which honours it), not deleted",
		strings.Join(names, ", "))
}

// selects reports whether sel matches labels, as the API server matches a label selector. An
// empty selector (not a nil one) selects every pod, as in policy/v1.
func selects(sel *LabelSelector, labels map[string]string) bool {
	for k, v := range sel.MatchLabels {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	for _, e := range sel.MatchExpressions {
		v, ok := labels[e.Key]
		in := false
		for _, want := range e.Values {
			in = in || (ok && v == want)
		}
		switch e.Operator {
		case "In":
			if !in {
				return false
			}
		case "NotIn":
			if in {
				return false
			}
		case "Exists":
			if !ok {
				return false
			}
		case "DoesNotExist":
			if ok {
				return false
			}
		default:
			return false // an operator this reading does not know: assume it does not select
		}
	}
	return true
}

// localHomeNote warns when the product's local home (the charts' volume "local-home") is an
// emptyDir, the charts' default: each delete wipes it.
func localHomeNote(sts *StatefulSet, c *Container, p atlassian.Product) string {
	if c == nil {
		return ""
	}
	empty := map[string]bool{}
	for _, v := range sts.Spec.Template.Spec.Volumes {
		empty[v.Name] = v.EmptyDir != nil
	}
	for _, m := range c.VolumeMounts {
		if m.Name != "local-home" || !empty[m.Name] {
			continue
		}
		lost := "its caches and plugin state, which it rebuilds on start"
		if p.ID == atlassian.Jira {
			lost = "Jira's search index (each new pod restores it from the shared home or rebuilds it) and caches"
		}
		return fmt.Sprintf("kubernetes: the local home of statefulset %s (volume local-home at %s) is an emptyDir: each pod reauth deletes "+
			"starts with an empty one, losing %s, so each start takes longer; give the chart volumes.localHome.persistentVolumeClaim.create=true to keep it",
			sts.Metadata.Name, m.MountPath, lost)
	}
	return ""
}
