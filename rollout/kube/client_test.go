package kube

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/reauth/reauth"
)

// The kubeconfig's credentials reach the API server: a wrong token is refused, and the error says
// what the server said and what to check.
func TestCredentialsFromKubeconfig(t *testing.T) {
	fc := newFakeCluster(t, 1, 0)
	c, _, err := Connect(Config{Kubeconfig: fc.kubeconfig(t, "wrong-token")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Nodes(context.Background(), c, ns, Config{StatefulSet: "confluence"}, confluence(t))
	if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "Unauthorized") {
		t.Fatalf("wrong token: %v", err)
	}
	if strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("the token leaked into the error: %v", err)
	}
}

// The API server's certificate is checked against the kubeconfig's CA.
func TestUntrustedAPIServer(t *testing.T) {
	fc := newFakeCluster(t, 1, 0)
	kc := fc.kubeconfig(t, fc.token)
	data, _ := os.ReadFile(kc)
	cfg := strings.Replace(string(data), "certificate-authority-data:", "x-ignored:", 1)
	os.WriteFile(kc, []byte(cfg), 0o600)
	c, _, err := Connect(Config{Kubeconfig: kc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetPod(context.Background(), ns, "confluence-0"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted server: %v", err)
	}
}

// The delete names the UID it looked at: a replacement pod with another UID is not deleted.
func TestDeletePodPrecondition(t *testing.T) {
	fc := newFakeCluster(t, 1, 0)
	c := fc.client(t)
	err := c.DeletePod(context.Background(), ns, "confluence-0", "some-other-uid")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != http.StatusConflict || !strings.Contains(err.Error(), "Precondition failed") {
		t.Fatalf("stale UID: %v", err)
	}
	fc.mu.Lock()
	n := len(fc.deletions)
	fc.mu.Unlock()
	if n != 0 {
		t.Fatalf("deleted anyway: %v", n)
	}
	if err := c.DeletePod(context.Background(), ns, "confluence-0", "confluence-0-uid-1"); err != nil {
		t.Fatal(err)
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if strings.Join(fc.deletions, ",") != "confluence-0" {
		t.Fatalf("deletions = %v", fc.deletions)
	}
}

// A pod that is gone is "not ready", not an error; other API errors are errors.
func TestReadyWhilePodGone(t *testing.T) {
	fc := newFakeCluster(t, 1, 0)
	r := &PodRestarter{Client: fc.client(t), Namespace: ns, Pod: "confluence-7"}
	ok, why, err := r.Ready(context.Background())
	if ok || why != "pod gone" || err != nil {
		t.Fatalf("missing pod: %v %q %v", ok, why, err)
	}
	r.Namespace = "elsewhere"
	r.Client = &Client{base: r.Client.base, http: http.DefaultClient} // no CA: TLS fails
	if _, _, err := r.Ready(context.Background()); err == nil || IsNotFound(err) {
		t.Fatalf("transport error: %v", err)
	}
	if _, err := r.Client.GetStatefulSet(context.Background(), ns, "x"); IsNotFound(err) {
		t.Fatalf("a TLS failure is not a 404: %v", err)
	}
}
