package inventory

import (
	"go.yaml.in/yaml/v3"
	"strings"
	"testing"

	"github.com/reauth/reauth"
)

// inlineSecrets lists the scalar values written under a secret key anywhere in data (nil when
// data is not YAML: then nothing is known to be a secret).
func inlineSecrets(data []byte) map[string]bool {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return nil
	}
	out := map[string]bool{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil {
			return
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if v.Kind == yaml.ScalarNode && secretKey(k.Value) && v.Value != "" {
					out[v.Value] = true
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&root)
	return out
}

// FuzzParse: any input either parses or is a usage error (exit 2) that names the file; never a
// panic, and never an error that echoes a value written under a secret key.
func FuzzParse(f *testing.F) {
	f.Add([]byte(full))
	f.Add([]byte("products:\n  - product: jira\n    database: {password: hunter2}\n"))
	f.Add([]byte("products: [{product: bamboo, kubernetes: {statefulset: b}}]\n"))
	f.Add([]byte("&a {products: *a}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Parse(data, "f.yaml")
		if err != nil {
			if reauth.CodeOf(err) != reauth.ExitUsage || !strings.Contains(err.Error(), "f.yaml") {
				t.Fatalf("error without code 2 or file name: %v", err)
			}
			// The value may legitimately be echoed where it is not a secret (an unknown product
			// named "hunter2"); it must not be where it was written under a secret key.
			for secret := range inlineSecrets(data) {
				if len(secret) >= 4 && strings.Contains(err.Error(), secret) {
					t.Fatalf("error echoes the secret %q: %v", secret, err)
				}
			}
			return
		}
		for _, p := range inv.Products {
			if p.Kubernetes == nil && len(p.Nodes) == 0 {
				t.Fatalf("product %s without nodes accepted", p.ID)
			}
			for _, n := range p.Nodes {
				if n.URL == "" || (n.Restart.Exec == nil) == (n.Restart.SSH == nil) {
					t.Fatalf("node %+v accepted", n)
				}
			}
		}
	})
}
