// Package health asks a product node whether it is ready to serve: the product's status endpoint
// (from the catalog) must answer HTTP 200 with the JSON state "RUNNING". It is what the rolling
// restart's health gates are made of.
package health

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/reauth/reauth/atlassian"
)

// Running is the state every product reports when it is ready for requests.
const Running = "RUNNING"

// Result is one probe's answer.
type Result struct {
	HTTP  int    // status code; 0 when the node did not answer
	State string // the JSON state ("" when there was none)
	Ready bool   // HTTP 200 and State RUNNING (Fisheye: HTTP 200)
	Err   error  // why the node could not be asked (unreachable, timeout, not JSON)
}

// String describes the result for progress lines.
func (r Result) String() string {
	switch {
	case r.HTTP == 0 && r.Err != nil:
		return "unreachable"
	case r.State != "":
		return r.State
	default:
		return fmt.Sprintf("HTTP %d", r.HTTP)
	}
}

// DefaultTimeout bounds one probe when the client has no timeout of its own.
const DefaultTimeout = 5 * time.Second

// StatusURL is the readiness URL of the node at baseURL (atlassian.Product.URL: the product's
// context path is added unless baseURL already ends with it).
func StatusURL(p atlassian.Product, baseURL string) string {
	return p.URL(baseURL, p.Ready.Path)
}

// Probe asks the node at baseURL whether it is ready. A node that does not answer is not ready
// and Err says why. The product's Ready.Path and Ready.StateKey say where and what to read: override
// them on p (e.g. for Fisheye, whose endpoint is UNCONFIRMED) to probe elsewhere. With an empty
// StateKey, HTTP 200 alone means ready.
func Probe(ctx context.Context, client *http.Client, p atlassian.Product, baseURL string) Result {
	if client == nil {
		client = http.DefaultClient
	}
	if client.Timeout == 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, StatusURL(p, baseURL), nil)
	if err != nil {
		return Result{Err: fmt.Errorf("status request: %w", err)}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return Result{Err: fmt.Errorf("GET %s: %w", req.URL.Redacted(), err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	r := Result{HTTP: resp.StatusCode}
	if err != nil {
		r.Err = fmt.Errorf("read status: %w", err)
		return r
	}
	if p.Ready.StateKey == "" {
		r.Ready = resp.StatusCode == http.StatusOK
		return r
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		// Starting Tomcats and proxies answer HTML: not ready, and say so.
		r.Err = fmt.Errorf("status is not JSON (HTTP %d)", resp.StatusCode)
		return r
	}
	if s, ok := doc[p.Ready.StateKey].(string); ok {
		r.State = s
	}
	r.Ready = resp.StatusCode == http.StatusOK && r.State == Running
	return r
}
