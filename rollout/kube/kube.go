// Package kube restarts the pods of a product's StatefulSet (Atlassian's Helm charts) one at a
// time, highest ordinal first, the way `kubectl rollout restart` would but with reauth's health
// gates between pods: a pod is deleted, its controller recreates it (a new UID), and the next pod
// is touched only after the new one is Ready in Kubernetes AND the product's status endpoint says
// RUNNING. It talks to the API server without client-go: the kubeconfig is read as kubectl reads
// it (kubeconfig.go, exec.go: the supported subset is listed there) and the few API calls are
// plain JSON (client.go). find.go reads the StatefulSet as Atlassian's charts render it (its name
// from the release label, ordinals.start, PodDisruptionBudgets, an emptyDir local home);
// database.go its database env.
//
// The product endpoint is, by default, the pod IP, the product container's port named http and
// the context path of its env (podurl.go: the charts' Service is not headless, so per-pod DNS
// names do not resolve); url_template ({pod}, {service}, {namespace}, {statefulset}, {ordinal})
// overrides it, e.g. "http://{pod}.{service}.{namespace}.svc:8090" behind a headless Service.
// Port-forwarding is not implemented: run reauth where pod IPs are reachable (inside the
// cluster), or give url_template.
package kube

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/reauth/reauth"
)

// Config locates the StatefulSet.
type Config struct {
	Namespace   string // "" = the kubeconfig context's namespace (as kubectl)
	StatefulSet string
	Context     string // "" = the kubeconfig's current context
	Kubeconfig  string // "" = $KUBECONFIG or ~/.kube/config (as kubectl)
	Service     string // {service} in URLTemplate; default: the StatefulSet name
	URLTemplate string
	// SecretEnv names the variables reauth read secrets from: an exec credential plugin runs
	// without them, as the drain hooks do (methods.SecretEnv).
	SecretEnv []string
}

// Connect resolves kubeconfig, context and namespace as kubectl does (falling back to the pod's
// service account inside a cluster), and returns a client and the namespace to use.
func Connect(cfg Config) (*Client, string, error) {
	return osEnv().connect(cfg)
}

func (e env) connect(cfg Config) (*Client, string, error) {
	rc, ns, err := e.resolve(cfg)
	if err != nil {
		return nil, "", reauth.Refused("check kubeconfig/context in the inventory, or `kubectl config current-context`",
			"kubernetes: load kubeconfig: %v", err)
	}
	c, err := newClient(rc, pluginOptions{secretEnv: cfg.SecretEnv})
	if err != nil {
		return nil, "", reauth.Refused("check the cluster's server and credentials in the kubeconfig", "%w", err)
	}
	return c, ns, nil
}

// PodRestarter restarts one pod by deleting it (evicting it when a PodDisruptionBudget selects
// it); its StatefulSet recreates it.
type PodRestarter struct {
	Client    *Client
	Namespace string
	Pod       string
	Ordinal   int
	Config    Config
	Port      int // without a port named http in the pod spec
	Evict     bool
	// EvictWait bounds how long an eviction the budget refuses (429) is retried; EvictPoll is the
	// pause between tries (defaults in evict.go).
	EvictWait, EvictPoll time.Duration

	container string            // the product's container in the pod spec
	env       map[string]string // its literal env, from the StatefulSet's template

	mu         sync.Mutex
	deletedUID UID // the pod Restart deleted: not Ready even while it still terminates
}

// Method implements rollout.Restarter.
func (r *PodRestarter) Method() string { return "kubernetes" }

// Preflight checks that the pod can be read (access to the cluster and namespace), that it is
// Ready, and that deleting it would bring it back on the revision it runs (revision.go).
func (r *PodRestarter) Preflight(ctx context.Context) error {
	pod, err := r.currentPod(ctx)
	if err != nil {
		return err
	}
	if ok, why := podReady(pod); !ok {
		return reauth.Refused("wait until every pod is Ready, then run again", "kubernetes: pod %s is not Ready (%s)", r.Pod, why)
	}
	return nil
}

// Restart deletes the pod (what a rolling restart does per pod); it returns when the delete is
// issued. The template revision is checked again first: a `helm upgrade` during the run must not
// be rolled out by the next delete.
func (r *PodRestarter) Restart(ctx context.Context, log io.Writer) error {
	pod, err := r.currentPod(ctx)
	if err != nil {
		// The run reports a node's error as text: the way out goes into it.
		return fmt.Errorf("pod %s not deleted: %w; %s", r.Pod, err, reauth.HintOf(err))
	}
	uid := pod.Metadata.UID
	// The precondition makes sure we delete the pod we looked at, not a replacement.
	verb := "deleted"
	if r.Evict {
		verb = "evicted"
		err = r.evict(ctx, uid, log)
	} else if err = r.Client.DeletePod(ctx, r.Namespace, r.Pod, uid); err != nil {
		err = fmt.Errorf("delete pod %s: %w", r.Pod, err)
	}
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.deletedUID = uid
	r.mu.Unlock()
	fmt.Fprintf(log, "%s pod %s/%s (uid %s)\n", verb, r.Namespace, r.Pod, uid)
	return nil
}

// TemplateEnv is the literal env of the product's container in the StatefulSet's template, and
// where it was read: settings the image turns into the product's configuration
// (HAZELCAST_HTTP_SESSIONS).
func (r *PodRestarter) TemplateEnv() (map[string]string, string) {
	return r.env, fmt.Sprintf("the env of container %s in statefulset %s/%s", r.container, r.Namespace, r.Config.StatefulSet)
}

// Identity is the pod's UID: a new pod proves the restart.
func (r *PodRestarter) Identity(ctx context.Context) (string, error) {
	pod, err := r.Client.GetPod(ctx, r.Namespace, r.Pod)
	if err != nil {
		return "", err
	}
	return string(pod.Metadata.UID), nil
}

// Ready is the Kubernetes side of the gate: the pod exists, is not being deleted, is not the one
// deleted, and its Ready condition is true.
func (r *PodRestarter) Ready(ctx context.Context) (bool, string, error) {
	pod, err := r.Client.GetPod(ctx, r.Namespace, r.Pod)
	if IsNotFound(err) {
		return false, "pod gone", nil
	}
	if err != nil {
		return false, "", err
	}
	r.mu.Lock()
	deleted := r.deletedUID
	r.mu.Unlock()
	if deleted != "" && pod.Metadata.UID == deleted {
		return false, "pod terminating", nil
	}
	ok, why := podReady(pod)
	return ok, why, nil
}

func podReady(pod *Pod) (bool, string) {
	if pod.Metadata.DeletionTimestamp != nil {
		return false, "pod terminating"
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == "Ready" {
			if c.Status == "True" {
				return true, ""
			}
			return false, "pod not Ready"
		}
	}
	return false, "pod " + strings.ToLower(pod.Status.Phase)
}

// URL is the product's base URL for the pod as it is now (a new pod has a new IP).
func (r *PodRestarter) URL(ctx context.Context) (string, error) {
	if u := r.templateURL(); u != "" {
		return u, nil
	}
	pod, err := r.Client.GetPod(ctx, r.Namespace, r.Pod)
	if err != nil {
		return "", err
	}
	return podURL(pod, r.container, r.Port)
}

func (r *PodRestarter) templateURL() string {
	t := r.Config.URLTemplate
	if t == "" {
		return ""
	}
	return strings.NewReplacer("{pod}", r.Pod, "{service}", r.Config.Service, "{namespace}", r.Namespace,
		"{statefulset}", r.Config.StatefulSet, "{ordinal}", strconv.Itoa(r.Ordinal)).Replace(t)
}
