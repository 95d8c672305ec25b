package kube

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/reauth/reauth/internal/boundedfile"
)

// The in-cluster service account, as client-go's rest.InClusterConfig reads it.
const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// inClusterPossible reports whether reauth runs in a pod with a service account: the fallback
// when there is no kubeconfig at all, and the source of a context's missing namespace.
func (e env) inClusterPossible() bool {
	if e.getenv("KUBERNETES_SERVICE_HOST") == "" || e.getenv("KUBERNETES_SERVICE_PORT") == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(e.saDir, "token"))
	return err == nil
}

// inCluster is the pod's service account, as rest.InClusterConfig builds it.
func (e env) inCluster() (*restConfig, error) {
	tokenFile := filepath.Join(e.saDir, "token")
	if _, err := boundedfile.Read(tokenFile, maxSmallFile); err != nil {
		return nil, fmt.Errorf("in-cluster service account token: %w", err)
	}
	ca, err := boundedfile.Read(filepath.Join(e.saDir, "ca.crt"), maxSmallFile)
	if err != nil {
		return nil, fmt.Errorf("in-cluster service account CA: %w", err)
	}
	host := net.JoinHostPort(e.getenv("KUBERNETES_SERVICE_HOST"), e.getenv("KUBERNETES_SERVICE_PORT"))
	return &restConfig{Server: "https://" + host, TokenFile: tokenFile, CAData: ca, source: "in-cluster service account (" + e.saDir + ")"}, nil
}

// inClusterNamespace: $POD_NAMESPACE, else the service account's namespace file, else "default".
func (e env) inClusterNamespace() string {
	if ns := e.getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	if data, err := boundedfile.Read(filepath.Join(e.saDir, "namespace"), maxSmallFile); err == nil {
		if ns := strings.TrimSpace(string(data)); ns != "" {
			return ns
		}
	}
	return "default"
}
