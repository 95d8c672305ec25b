// Package ansible reads the hosts of an Ansible inventory: INI and YAML inventory files, a
// directory of them with its group_vars/ and host_vars/, or the JSON that `ansible-inventory
// --list` (or a dynamic inventory script) prints. It resolves what reauth needs of a group:
// its hosts, in inventory order (the order `ansible GROUP --list-hosts` prints), each with its
// effective variables by Ansible's precedence (group vars by depth, priority and name; then
// group_vars/ files; then host vars; then host_vars/ files).
//
// Values are kept as the text Ansible would use; a value that is a Jinja template ("{{ … }}") is
// kept as written, and callers refuse it where it matters: reauth does not render templates.
package ansible

import (
	"sort"
	"strconv"
	"strings"
)

// Inventory is a parsed Ansible inventory.
type Inventory struct {
	groups  map[string]*group
	hosts   map[string]*host
	created []string // group names, in the order they were first seen
	// Source names what was read (for messages).
	Source string
}

type group struct {
	name     string
	hosts    []string
	children []string
	parents  []string
	vars     map[string]string // inline (inventory file) vars
	fileVars map[string]string // group_vars/<name>
}

type host struct {
	name     string
	vars     map[string]string // inline
	fileVars map[string]string // host_vars/<name>
}

// Host is one host of a group with its effective variables.
type Host struct {
	Name string
	Vars map[string]string
}

func newInventory(source string) *Inventory {
	inv := &Inventory{groups: map[string]*group{}, hosts: map[string]*host{}, Source: source}
	inv.group("all")
	inv.group("ungrouped")
	return inv
}

func (inv *Inventory) group(name string) *group {
	g := inv.groups[name]
	if g == nil {
		g = &group{name: name, vars: map[string]string{}}
		inv.groups[name] = g
		inv.created = append(inv.created, name)
	}
	return g
}

// addHost puts host name into group g (creating the host at its first sighting).
func (inv *Inventory) addHost(g *group, name string) *host {
	h := inv.hosts[name]
	if h == nil {
		h = &host{name: name, vars: map[string]string{}}
		inv.hosts[name] = h
	}
	for _, x := range g.hosts {
		if x == name {
			return h
		}
	}
	g.hosts = append(g.hosts, name)
	return h
}

func (inv *Inventory) addChild(parent *group, child string) {
	c := inv.group(child)
	for _, x := range parent.children {
		if x == child {
			return
		}
	}
	parent.children = append(parent.children, child)
	c.parents = append(c.parents, parent.name)
}

// Groups lists the inventory's group names, sorted.
func (inv *Inventory) Groups() []string {
	var out []string
	for n := range inv.groups {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Hosts are the hosts of group name and of its child groups, in the order Ansible's
// `ansible GROUP --list-hosts` gives them: the group's own hosts, then its children's in the
// order they are listed, then theirs, level by level. ok is false when there is no such group.
func (inv *Inventory) Hosts(name string) ([]Host, bool) {
	if inv.groups[name] == nil {
		return nil, false
	}
	var out []Host
	seenHost, seenGroup := map[string]bool{}, map[string]bool{name: true}
	level := []string{name}
	for len(level) > 0 {
		var next []string
		for _, gn := range level {
			for _, h := range inv.groups[gn].hosts {
				if !seenHost[h] {
					seenHost[h] = true
					out = append(out, Host{Name: h, Vars: inv.vars(h)})
				}
			}
			for _, c := range inv.children(gn) {
				if !seenGroup[c] {
					seenGroup[c] = true
					next = append(next, c)
				}
			}
		}
		level = next
	}
	return out, true
}

// children are a group's child groups; those of "all" include every group under no other.
func (inv *Inventory) children(name string) []string {
	if name != "all" {
		return inv.groups[name].children
	}
	out := append([]string(nil), inv.groups["all"].children...)
	for _, g := range inv.created {
		if g != "all" && len(inv.groups[g].parents) == 0 {
			out = append(out, g)
		}
	}
	return out
}

// vars merges a host's variables by Ansible's precedence, lowest first.
func (inv *Inventory) vars(name string) map[string]string {
	h := inv.hosts[name]
	out := map[string]string{}
	merge := func(m map[string]string) {
		for k, v := range m {
			out[k] = v
		}
	}
	groups := inv.groupsOf(name)
	for _, g := range groups {
		merge(g.vars)
	}
	for _, g := range groups {
		merge(g.fileVars)
	}
	merge(h.vars)
	merge(h.fileVars)
	return out
}

// groupsOf are the groups host name is in, directly or through its groups' parents, "all"
// included, sorted as Ansible applies their vars: by depth, then ansible_group_priority, then name.
func (inv *Inventory) groupsOf(name string) []*group {
	in := map[string]bool{"all": true}
	var up func(g string)
	up = func(g string) {
		if in[g] && g != "all" {
			return
		}
		in[g] = true
		for _, p := range inv.groups[g].parents {
			up(p)
		}
	}
	for _, g := range inv.groups {
		for _, h := range g.hosts {
			if h == name {
				up(g.name)
			}
		}
	}
	depth := map[string]int{}
	var d func(g string, seen map[string]bool) int
	d = func(g string, seen map[string]bool) int {
		if v, ok := depth[g]; ok {
			return v
		}
		best := 0
		if !seen[g] {
			seen[g] = true
			for _, p := range inv.groups[g].parents {
				if n := d(p, seen) + 1; n > best {
					best = n
				}
			}
			delete(seen, g)
		}
		if g != "all" && best == 0 {
			best = 1 // a group under no other is a child of all
		}
		depth[g] = best
		return best
	}
	var out []*group
	for g := range in {
		d(g, map[string]bool{})
		out = append(out, inv.groups[g])
	}
	// Ansible takes a group's priority from the inventory file's vars only, not group_vars/.
	prio := func(g *group) int {
		n, err := strconv.Atoi(strings.TrimSpace(g.vars["ansible_group_priority"]))
		if err != nil {
			return 1
		}
		return n
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if depth[a.name] != depth[b.name] {
			return depth[a.name] < depth[b.name]
		}
		if prio(a) != prio(b) {
			return prio(a) < prio(b)
		}
		return a.name < b.name
	})
	return out
}
