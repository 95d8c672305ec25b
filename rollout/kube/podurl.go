package kube

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Without url_template a pod is reached at its IP, on the product container's port named "http"
// (the charts name it so; the Service's targetPort refers to it), under the context path the
// image is given in its env. Not through {pod}.{service}: the charts' Service is a ClusterIP
// Service, not a headless one, so per-pod DNS names do not resolve on kube-dns (and on CoreDNS
// only while the pod is Ready). The scheme is http: ATL_TOMCAT_SCHEME/SERVER_SCHEME are what the
// proxy in front speaks, the pod's connector itself is plain HTTP.

// contextPathEnv are the variables Atlassian's images take Tomcat's context path from
// (ATL_TOMCAT_CONTEXTPATH: Jira, Confluence, Bamboo, Crowd; SERVER_CONTEXT_PATH: Bitbucket).
var contextPathEnv = []string{"ATL_TOMCAT_CONTEXTPATH", "SERVER_CONTEXT_PATH"}

// productContainer is the product's container in spec: the one named after the product (the
// charts name it so), else the one with a port named http, else the only one; nil otherwise.
func productContainer(spec *PodSpec, product string) *Container {
	for i := range spec.Containers {
		if spec.Containers[i].Name == product {
			return &spec.Containers[i]
		}
	}
	for i := range spec.Containers {
		if spec.Containers[i].port("http") != 0 {
			return &spec.Containers[i]
		}
	}
	if len(spec.Containers) == 1 {
		return &spec.Containers[0]
	}
	return nil
}

func containerName(c *Container) string {
	if c == nil {
		return ""
	}
	return c.Name
}

// port is the number of the container's port called name; 0 when it has none.
func (c *Container) port(name string) int {
	for _, p := range c.Ports {
		if p.Name == name {
			return int(p.ContainerPort)
		}
	}
	return 0
}

// literalEnv is the container's variables that have a literal value (not those from a Secret or
// ConfigMap: reauth does not read those here).
func literalEnv(c *Container) map[string]string {
	env := map[string]string{}
	if c == nil {
		return env
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value // a later duplicate wins, as in the kubelet
		}
	}
	return env
}

// contextPath is the context path the container's env gives Tomcat ("" for the root), cleaned to
// "/x/y".
func contextPath(env map[string]string) string {
	for _, name := range contextPathEnv {
		if v, ok := env[name]; ok {
			return "/" + strings.Trim(strings.TrimSpace(v), "/")
		}
	}
	return ""
}

// podURL is the base URL of the product in pod: http://IP:PORT/CONTEXT.
func podURL(pod *Pod, container string, defaultPort int) (string, error) {
	if pod.Status.PodIP == "" {
		return "", fmt.Errorf("pod %s has no IP yet", pod.Metadata.Name)
	}
	port, cp := defaultPort, ""
	var c *Container
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == container {
			c = &pod.Spec.Containers[i]
		}
	}
	if c == nil {
		c = productContainer(&pod.Spec, container)
	}
	if c != nil {
		if p := c.port("http"); p > 0 {
			port = p
		}
		cp = contextPath(literalEnv(c))
	}
	u := url.URL{Scheme: "http", Host: net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(port)), Path: strings.TrimSuffix(cp, "/")}
	return u.String(), nil
}
