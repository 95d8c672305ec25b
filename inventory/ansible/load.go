package ansible

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/reauth/reauth/internal/boundedfile"
)

// maxFile bounds one inventory or vars file.
const maxFile = 16 << 20

// Load reads an inventory file (INI, YAML, or the JSON of ansible-inventory --list), or a
// directory of inventory files, and the group_vars/ and host_vars/ beside it.
func Load(path string) (*Inventory, error) {
	inv := newInventory(path)
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if st.IsDir() {
		dir = path
		ents, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if e.IsDir() || skipped(e.Name()) {
				continue
			}
			if err := inv.readFile(filepath.Join(path, e.Name())); err != nil {
				return nil, err
			}
		}
	} else if err := inv.readFile(path); err != nil {
		return nil, err
	}
	if err := inv.readVarsDirs(dir); err != nil {
		return nil, err
	}
	return inv, nil
}

// skipped are the files Ansible's inventory directory loading leaves alone.
func skipped(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") {
		return true
	}
	switch filepath.Ext(name) {
	case ".orig", ".bak", ".cfg", ".retry", ".pyc", ".pyo", ".md", ".txt", ".rst":
		return true
	}
	return false
}

func (inv *Inventory) readFile(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0 && !strings.HasSuffix(path, ".json") {
		return fmt.Errorf("%s is executable, a dynamic inventory script: run it (or ansible-inventory -i %s --list) and give reauth the JSON it prints", path, path)
	}
	data, err := boundedfile.Read(path, maxFile)
	if err != nil {
		return err
	}
	return inv.parse(data, path)
}

// parse reads one inventory document, by its content: JSON, YAML (a mapping of groups), or INI.
func (inv *Inventory) parse(data []byte, name string) error {
	trimmed := bytes.TrimSpace(data)
	switch {
	case bytes.HasPrefix(trimmed, []byte("{")):
		return inv.parseJSON(trimmed, name)
	case strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".yaml"):
		return inv.parseYAML(data, name)
	}
	return inv.parseINI(data, name)
}

// listJSON is the shape of ansible-inventory --list and of dynamic inventory scripts: groups
// by name (hosts, children, vars) and _meta.hostvars. A group may also be a bare list of hosts.
func (inv *Inventory) parseJSON(data []byte, name string) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	var meta struct {
		HostVars map[string]map[string]any `json:"hostvars"`
	}
	if m, ok := top["_meta"]; ok {
		if err := json.Unmarshal(m, &meta); err != nil {
			return fmt.Errorf("%s: _meta: %v", name, err)
		}
	}
	// Groups are walked from "all", each group's hosts before its children, so that hosts come
	// in the order the groups list them (the JSON has no global host order).
	var names []string
	for k := range top {
		if k != "_meta" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	type jgroup struct {
		Hosts    []string       `json:"hosts"`
		Children []string       `json:"children"`
		Vars     map[string]any `json:"vars"`
	}
	parsed := map[string]jgroup{}
	for _, k := range names {
		var g jgroup
		if err := json.Unmarshal(top[k], &g); err != nil {
			var list []string
			if err2 := json.Unmarshal(top[k], &list); err2 != nil {
				return fmt.Errorf("%s: group %s: %v", name, k, err)
			}
			g.Hosts = list
		}
		parsed[k] = g
	}
	visited := map[string]bool{}
	var walk func(n string)
	walk = func(n string) {
		if visited[n] {
			return
		}
		visited[n] = true
		g := inv.group(n)
		jg := parsed[n]
		for k, v := range jg.Vars {
			g.vars[k] = scalar(v)
		}
		for _, h := range jg.Hosts {
			inv.addHost(g, h)
		}
		for _, c := range jg.Children {
			inv.addChild(g, c)
			walk(c)
		}
	}
	walk("all")
	for _, k := range names {
		walk(k)
	}
	for h, vars := range meta.HostVars {
		hh := inv.hosts[h]
		if hh == nil {
			hh = inv.addHost(inv.group("ungrouped"), h)
		}
		for k, v := range vars {
			hh.vars[k] = scalar(v)
		}
	}
	return nil
}

// scalar is a variable's value as text (numbers and booleans as JSON writes them).
func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}
