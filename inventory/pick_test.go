package inventory

import (
	"strings"
	"testing"

	"github.com/reauth/reauth"
)

func TestPick(t *testing.T) {
	one := &Inventory{Products: []Product{{ID: "jira"}}}
	two := &Inventory{Products: []Product{{ID: "jira"}, {ID: "confluence"}}}
	if p, err := one.Pick("", "restart"); err != nil || p.ID != "jira" {
		t.Fatalf("only product: %v %v", p, err)
	}
	if p, err := two.Pick("Confluence", "restart"); err != nil || p.ID != "confluence" {
		t.Fatalf("named: %v %v", p, err)
	}
	_, err := two.Pick("", "revoke")
	if reauth.CodeOf(err) != reauth.ExitUsage || !strings.Contains(err.Error(), "which one to revoke") ||
		!strings.Contains(reauth.HintOf(err), "jira, confluence") {
		t.Fatalf("two products, none named: %v (hint %q)", err, reauth.HintOf(err))
	}
	if _, err := two.Pick("bamboo", "restart"); reauth.CodeOf(err) != reauth.ExitUsage {
		t.Fatalf("unknown product: %v", err)
	}
}
