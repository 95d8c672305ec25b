package inventory

import (
	"strings"
	"testing"
	"time"
)

func TestIdPHook(t *testing.T) {
	const base = "products:\n  - product: jira\n    home: /x\n    nodes: [{name: n1, url: \"http://127.0.0.1:1\", restart: {exec: {command: \"true\"}}}]\n"
	inv, err := Parse([]byte(base+"    idp: {command: \"kc-logout-all corp\", timeout: 45s}\n"), "reauth.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if h := inv.Products[0].IdP; h == nil || h.Command != "kc-logout-all corp" || h.Timeout != 45*time.Second {
		t.Fatalf("idp: %+v", h)
	}
	if inv, err := Parse([]byte(base+"    pat_table: BAMBOO_PAT\n"), "reauth.yaml"); err != nil || inv.Products[0].PATTable != "BAMBOO_PAT" {
		t.Fatalf("pat_table: %v", err)
	}
	if inv, err := Parse([]byte(base), "reauth.yaml"); err != nil || inv.Products[0].IdP != nil {
		t.Fatalf("no idp: %+v %v", inv.Products[0].IdP, err)
	}
	for _, bad := range []struct{ yaml, want string }{
		{"    idp: {timeout: 1m}\n", "idp has no command"},
		{"    idp: {command: x, secret: y}\n", "secret"},
		{"    idp: {command: x, timeout: soon}\n", "timeout"},
	} {
		if _, err := Parse([]byte(base+bad.yaml), "reauth.yaml"); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want an error naming %q", bad.yaml, err, bad.want)
		}
	}
}
