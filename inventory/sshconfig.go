package inventory

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// sshConfigFiles reads defaults.ssh_config: a file, a list of files, or none.
func (d *decoder) sshConfigFiles(n *yaml.Node) ([]string, error) {
	if n == nil {
		return nil, nil
	}
	var files []string
	if n.Kind == yaml.ScalarNode {
		s, err := d.str(n, "ssh_config")
		if err != nil || s == "" {
			return nil, err
		}
		files = []string{s}
	} else {
		var err error
		if files, err = d.strs(n, "ssh_config"); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		if strings.TrimSpace(f) == "" || (strings.EqualFold(f, "none") && len(files) > 1) {
			return nil, d.err(n.Line, "name OpenSSH client config files (default ~/.ssh/config), or write ssh_config: none", "ssh_config: bad file list")
		}
	}
	return files, nil
}
