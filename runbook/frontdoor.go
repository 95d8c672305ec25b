package runbook

import (
	"fmt"
	"io"
)

// FrontDoor is how the proof names the product's base_url (the load balancer or CDN users
// reach) among the nodes it replays cookies on.
const FrontDoor = "base_url"

// proofTarget is one place the proof replays its cookies: a node, or the front door.
type proofTarget struct{ Name, URL string }

// proofTargets are the nodes, then the product's base_url when the inventory gives one: users
// reach the product there, so an old cookie must be rejected there as well (a proxy that caches
// or pins sessions would otherwise go unseen).
func (u *unit) proofTargets() []proofTarget {
	out := make([]proofTarget, 0, len(u.rplan.Nodes)+1)
	for _, n := range u.rplan.Nodes {
		out = append(out, proofTarget{Name: n.Name, URL: n.URL})
	}
	if u.inv.BaseURL != "" {
		out = append(out, proofTarget{Name: FrontDoor, URL: u.inv.BaseURL})
	}
	return out
}

// printFrontDoor says in the plan that the proof replays at the front door too.
func (u *unit) printFrontDoor(w io.Writer) {
	if u.inv.BaseURL != "" {
		fmt.Fprintf(w, "              and at the front door %s (base_url), where users reach %s\n", redactURL(u.inv.BaseURL), u.prod.Name)
	}
}

// noteFrontDoor says what the front door's replay could not show: a base_url that rejected no
// cookie it had accepted before (unreachable, or it never accepted them) proves nothing there.
func (u *unit) noteFrontDoor() {
	pr := &u.report.Verify.Proof
	if fd := pr.FrontDoor; fd != nil && fd.RejectedAfter+fd.AcceptedAfter == 0 {
		pr.NotProven = append(pr.NotProven, fmt.Sprintf("front door %s (base_url): no cookie it accepted before was replayed and rejected after (%d error(s))",
			redactURL(u.inv.BaseURL), fd.Errors))
	}
}
