package inventory

import (
	"regexp"
	"strings"
	"testing"

	"github.com/reauth/reauth"
)

// secretValue matches "hunter2" written as the value of a secret key.
var secretValue = regexp.MustCompile(`(?i)(password|passwd|token|secret|passphrase|api_?key)["']?\s*:\s*["']?hunter2`)

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
			if secretValue.Match(data) && strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error echoes a secret: %v", err)
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
