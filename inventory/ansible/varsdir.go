package ansible

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/reauth/reauth/internal/boundedfile"
)

// readVarsDirs reads dir/group_vars and dir/host_vars: for each group or host NAME, the file
// NAME, NAME.yml, NAME.yaml or NAME.json, or every such file in the directory NAME/.
func (inv *Inventory) readVarsDirs(dir string) error {
	for _, g := range inv.groups {
		vars, err := varsFor(filepath.Join(dir, "group_vars"), g.name)
		if err != nil {
			return err
		}
		g.fileVars = vars
	}
	for _, h := range inv.hosts {
		vars, err := varsFor(filepath.Join(dir, "host_vars"), h.name)
		if err != nil {
			return err
		}
		h.fileVars = vars
	}
	return nil
}

func varsFor(dir, name string) (map[string]string, error) {
	var files []string
	for _, ext := range []string{"", ".yml", ".yaml", ".json"} {
		p := filepath.Join(dir, name+ext)
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		if st.IsDir() {
			ents, _ := os.ReadDir(p)
			var sub []string
			for _, e := range ents {
				if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
					sub = append(sub, filepath.Join(p, e.Name()))
				}
			}
			sort.Strings(sub)
			files = append(files, sub...)
		} else {
			files = append(files, p)
		}
	}
	out := map[string]string{}
	for _, f := range files {
		data, err := boundedfile.Read(f, maxFile)
		if err != nil {
			return nil, err
		}
		var doc yaml.Node // YAML is a superset of the JSON these files may hold
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("%s: %v", f, err)
		}
		if len(doc.Content) == 0 {
			continue
		}
		vars, err := yamlVars(doc.Content[0], f)
		if err != nil {
			return nil, err
		}
		for k, v := range vars {
			out[k] = v
		}
	}
	return out, nil
}
