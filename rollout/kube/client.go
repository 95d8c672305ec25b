package kube

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
)

// Client makes the few Kubernetes API calls a rolling restart needs (get or list StatefulSets, get
// a pod, delete or evict it, list PodDisruptionBudgets; get a Secret for database: {from:
// statefulset}) as plain JSON over an HTTP client built from the kubeconfig (kubeconfig.go:
// TLS, tokens, client certificates, exec credential plugins, in-cluster service account),
// decoded into the few fields reauth reads (types.go).
// client-go would do the same, but it and the API machinery under it were most of reauth's cold
// build time and a third of its binary.
type Client struct {
	base     *url.URL // scheme, host and any path prefix of the API server
	http     *http.Client
	warnings []string
}

// maxBody bounds what is read from the API server (a pod or a StatefulSet is a few KiB).
const maxBody = 8 << 20

// newClient returns a Client for rc, authenticated as rc says (an exec plugin run as plugin says).
func newClient(rc *restConfig, plugin pluginOptions) (*Client, error) {
	hc, base, err := newHTTPClient(rc, plugin)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: %w", err)
	}
	return &Client{base: base, http: hc, warnings: rc.warnings}, nil
}

// Warnings are what the kubeconfig holds that is probably not what was meant but not refused (a
// key kubectl does not know, credentials not sent to a plain-http server): show them before acting.
func (c *Client) Warnings() []string { return c.warnings }

// APIError is a non-success answer of the API server, with the message of its Status object
// (the same text kubectl and client-go show, e.g. `pods "jira-3" not found`).
type APIError struct {
	Code    int
	Reason  string // the Status object's reason, e.g. "NotFound"
	Message string
}

func (e *APIError) Error() string { return e.Message }

// IsNotFound reports whether err is the API server's 404.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Code == http.StatusNotFound || ae.Reason == "NotFound")
}

// GetStatefulSet is GET /apis/apps/v1/namespaces/{ns}/statefulsets/{name}.
func (c *Client) GetStatefulSet(ctx context.Context, namespace, name string) (*StatefulSet, error) {
	var sts StatefulSet
	err := c.do(ctx, http.MethodGet, c.url("apis/apps/v1", namespace, "statefulsets", name), nil, &sts)
	if err != nil {
		return nil, err
	}
	return &sts, nil
}

// GetPod is GET /api/v1/namespaces/{ns}/pods/{name}.
func (c *Client) GetPod(ctx context.Context, namespace, name string) (*Pod, error) {
	var pod Pod
	err := c.do(ctx, http.MethodGet, c.url("api/v1", namespace, "pods", name), nil, &pod)
	if err != nil {
		return nil, err
	}
	return &pod, nil
}

// DeletePod is DELETE /api/v1/namespaces/{ns}/pods/{name}, only if the pod still has uid (the API
// server answers 409 Conflict for a replacement with another UID).
func (c *Client) DeletePod(ctx context.Context, namespace, name string, uid UID) error {
	var opts struct {
		TypeMeta
		Preconditions struct {
			UID UID `json:"uid"`
		} `json:"preconditions"`
	}
	opts.Kind, opts.APIVersion, opts.Preconditions.UID = "DeleteOptions", "v1", uid
	body, err := json.Marshal(opts)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, c.url("api/v1", namespace, "pods", name), body, nil)
}

// ListStatefulSets is GET /apis/apps/v1/namespaces/{ns}/statefulsets?labelSelector=…: how a
// StatefulSet is found by its Helm release label when the name given does not exist.
func (c *Client) ListStatefulSets(ctx context.Context, namespace, labelSelector string) ([]StatefulSet, error) {
	var list StatefulSetList
	u := c.url("apis/apps/v1", namespace, "statefulsets", "") + "?" + url.Values{"labelSelector": {labelSelector}}.Encode()
	if err := c.do(ctx, http.MethodGet, u, nil, &list); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// ListPodDisruptionBudgets is GET /apis/policy/v1/namespaces/{ns}/poddisruptionbudgets.
func (c *Client) ListPodDisruptionBudgets(ctx context.Context, namespace string) ([]PodDisruptionBudget, error) {
	var list PodDisruptionBudgetList
	if err := c.do(ctx, http.MethodGet, c.url("apis/policy/v1", namespace, "poddisruptionbudgets", ""), nil, &list); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// EvictPod is POST /api/v1/namespaces/{ns}/pods/{name}/eviction (policy/v1 Eviction), only if the
// pod still has uid: the API server deletes the pod when its PodDisruptionBudgets allow it, and
// answers 429 Too Many Requests when they do not.
func (c *Client) EvictPod(ctx context.Context, namespace, name string, uid UID) error {
	var ev struct {
		TypeMeta
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
		DeleteOptions struct {
			TypeMeta
			Preconditions struct {
				UID UID `json:"uid"`
			} `json:"preconditions"`
		} `json:"deleteOptions"`
	}
	ev.Kind, ev.APIVersion = "Eviction", "policy/v1"
	ev.Metadata.Name, ev.Metadata.Namespace = name, namespace
	ev.DeleteOptions.Kind, ev.DeleteOptions.APIVersion, ev.DeleteOptions.Preconditions.UID = "DeleteOptions", "v1", uid
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, c.url("api/v1", namespace, "pods", name)+"/eviction", body, nil)
}

func (c *Client) url(apiPath, namespace, resource, name string) string {
	u := *c.base
	u.Path = path.Join("/", c.base.Path, apiPath, "namespaces", namespace, resource, name)
	u.RawPath = ""
	return u.String()
}

// do sends one request and decodes a 2xx answer into out (nil: discard); other answers become
// an *APIError.
func (c *Client) do(ctx context.Context, method, u string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("kubernetes API %s: %w%s", req.URL.Redacted(), err, schemeHint(req.URL, err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("kubernetes API %s: read answer: %w", req.URL.Redacted(), err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError(resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("kubernetes API %s: decode answer: %w", req.URL.Redacted(), err)
	}
	return nil
}

// statusError turns a failed answer into an *APIError, with the Status object's message when the
// body is one (a proxy in front of the API server may answer something else).
func statusError(code int, body []byte) error {
	var st struct {
		Kind    string `json:"kind"`
		Reason  string `json:"reason"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &st) == nil && st.Kind == "Status" && st.Message != "" {
		return &APIError{Code: code, Reason: st.Reason, Message: st.Message}
	}
	msg := fmt.Sprintf("the server answered %d %s", code, http.StatusText(code))
	switch code {
	case http.StatusUnauthorized:
		msg += " (the kubeconfig's credentials were refused)"
	case http.StatusForbidden:
		msg += " (the account lacks a permission: see deploy/kubernetes for the Role reauth needs)"
	}
	return &APIError{Code: code, Message: msg}
}

// schemeHint names the likely cause when an https request reaches a port that speaks plain HTTP
// (or something else that is not TLS): the wrong port, or a plain-HTTP endpoint written as https.
func schemeHint(u *url.URL, err error) string {
	var rh tls.RecordHeaderError
	if u.Scheme != "https" || (!errors.Is(err, http.ErrSchemeMismatch) && !errors.As(err, &rh)) {
		return ""
	}
	return fmt.Sprintf(" (%s answers without TLS: the port is probably not the API server's https port, often 6443 or 443; "+
		"if it really is a plain-HTTP endpoint such as kubectl proxy, write http:// in the kubeconfig's server, and know that no credentials are sent over it)", u.Host)
}
