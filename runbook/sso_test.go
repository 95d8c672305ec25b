package runbook

import (
	"strings"
	"testing"

	"github.com/reauth/reauth/atlassian"
)

func testUnit(t *testing.T, id string, sso bool) *unit {
	t.Helper()
	p, err := atlassian.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	u := &unit{prod: p, report: ProductReport{Product: id}}
	if sso {
		u.report.SSO = &SSOReport{Provider: "crowd", DetectedBy: "inventory (sso: crowd)"}
	}
	return u
}

func ids(units []*unit) string {
	var out []string
	for _, u := range units {
		out = append(out, string(u.prod.ID))
	}
	return strings.Join(out, ",")
}

// TestCrowdGoesFirst: Crowd precedes exactly the applications that trust its SSO, whatever the
// inventory's order; everything else keeps its order.
func TestCrowdGoesFirst(t *testing.T) {
	jira, bb, conf, crowd := testUnit(t, "jira", true), testUnit(t, "bitbucket", false), testUnit(t, "confluence", true), testUnit(t, "crowd", false)
	if ok, why := mustPrecede(crowd, jira); !ok || !strings.Contains(why, "Crowd's sessions end first") {
		t.Fatalf("crowd before jira: %v %q", ok, why)
	}
	for _, pair := range [][2]*unit{{crowd, bb}, {jira, crowd}, {jira, conf}, {bb, jira}} {
		if ok, _ := mustPrecede(pair[0], pair[1]); ok {
			t.Fatalf("%s must not precede %s", pair[0].prod.ID, pair[1].prod.ID)
		}
	}
	if got := ids(orderUnits([]*unit{bb, jira, conf, crowd})); got != "bitbucket,crowd,jira,confluence" {
		t.Fatalf("order %s", got)
	}
	if got := ids(orderUnits([]*unit{crowd, bb, jira})); got != "crowd,bitbucket,jira" {
		t.Fatalf("order %s", got)
	}
	if got := ids(orderUnits([]*unit{bb, testUnit(t, "jira", false), crowd})); got != "bitbucket,jira,crowd" {
		t.Fatalf("order without sso %s", got)
	}
}

// TestNotCoveredSaysCrowdSSO: the report's "not covered" names the applications whose Crowd SSO
// the run leaves alive, drops the line when Crowd is in the run, and keeps the general caveat
// otherwise.
func TestNotCoveredSaysCrowdSSO(t *testing.T) {
	line := func(units []*unit) string {
		for _, n := range notCovered(units) {
			if strings.Contains(n, "Crowd SSO") {
				return n
			}
		}
		return ""
	}
	jira := testUnit(t, "jira", true)
	if l := line([]*unit{jira}); !strings.Contains(l, "of jira") || !strings.Contains(l, "Crowd is not in this run") {
		t.Fatalf("gap: %q", l)
	}
	if got := ssoNotCovered([]*unit{jira}); len(got) != 1 || got[0] != "jira" {
		t.Fatalf("sso_not_covered %v", got)
	}
	jira.report.SSO.Covered = true
	if l := line([]*unit{testUnit(t, "crowd", false), jira}); l != "" {
		t.Fatalf("crowd in the run, still: %q", l)
	}
	if l := line([]*unit{testUnit(t, "bamboo", false)}); !strings.Contains(l, "Crowd is not in this run") {
		t.Fatalf("general caveat: %q", l)
	}
}
