package ansible

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// parseYAML reads a YAML inventory: groups by name, each with hosts (host: vars), vars and
// children (groups, recursively). The node tree is walked, not a map, to keep the file's order.
func (inv *Inventory) parseYAML(data []byte, name string) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	return inv.yamlGroups(doc.Content[0], nil, name)
}

// yamlGroups reads a mapping of group name → group body, as children of parent (nil: top level).
func (inv *Inventory) yamlGroups(n *yaml.Node, parent *group, file string) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: expected a mapping of groups", file, n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		g := inv.group(n.Content[i].Value)
		if parent != nil {
			inv.addChild(parent, g.name)
		}
		if err := inv.yamlGroup(n.Content[i+1], g, file); err != nil {
			return err
		}
	}
	return nil
}

func (inv *Inventory) yamlGroup(n *yaml.Node, g *group, file string) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: group %s: expected hosts, vars or children", file, n.Line, g.name)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i].Value, n.Content[i+1]
		switch key {
		case "hosts":
			if err := inv.yamlHosts(val, g, file); err != nil {
				return err
			}
		case "vars":
			vars, err := yamlVars(val, file)
			if err != nil {
				return err
			}
			for k, v := range vars {
				g.vars[k] = v
			}
		case "children":
			if err := inv.yamlGroups(val, g, file); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s:%d: group %s: unknown key %q (hosts, vars or children)", file, n.Content[i].Line, g.name, key)
		}
	}
	return nil
}

func (inv *Inventory) yamlHosts(n *yaml.Node, g *group, file string) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: group %s: hosts must be a mapping (host: vars)", file, n.Line, g.name)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		names, err := expandRange(n.Content[i].Value)
		if err != nil {
			return fmt.Errorf("%s:%d: %v", file, n.Content[i].Line, err)
		}
		vars, err := yamlVars(n.Content[i+1], file)
		if err != nil {
			return err
		}
		for _, name := range names {
			h := inv.addHost(g, name)
			for k, v := range vars {
				h.vars[k] = v
			}
		}
	}
	return nil
}

// yamlVars reads a mapping of variables; each value as text (a list or mapping as YAML flow).
func yamlVars(n *yaml.Node, file string) (map[string]string, error) {
	out := map[string]string{}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return out, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: expected a mapping of variables", file, n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		v := n.Content[i+1]
		if v.Kind == yaml.ScalarNode {
			out[n.Content[i].Value] = v.Value
			continue
		}
		b, _ := yaml.Marshal(v)
		out[n.Content[i].Value] = string(b)
	}
	return out, nil
}
