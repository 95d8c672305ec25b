package sandbox

import (
	"bytes"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The inventory's shape (design.md), exactly: the rolling-restart code parses it strictly.
type invFile struct {
	Products []invProduct `yaml:"products"`
}

type invProduct struct {
	Product string    `yaml:"product"`
	Home    string    `yaml:"home"`
	Nodes   []invNode `yaml:"nodes"`
}

type invNode struct {
	Name    string     `yaml:"name"`
	URL     string     `yaml:"url"`
	Install string     `yaml:"install"`
	Restart invRestart `yaml:"restart"`
}

type invRestart struct {
	Exec invExec `yaml:"exec"`
}

type invExec struct {
	Command string `yaml:"command"`
}

// inventory renders DIR/reauth.yaml: every node restarts with the exec method through
// `reauth sandbox restart-node`.
func (c *Cluster) inventory() ([]byte, error) {
	p := invProduct{Product: string(c.st.Product), Home: c.Home()}
	for _, n := range c.Nodes() {
		cmd := shellQuote(c.st.Exe) + " sandbox restart-node --dir " + shellQuote(c.st.Dir) + " --node " + shellQuote(n.Name)
		p.Nodes = append(p.Nodes, invNode{Name: n.Name, URL: n.URL, Install: n.Dir, Restart: invRestart{Exec: invExec{Command: cmd}}})
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(invFile{Products: []invProduct{p}}); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:,@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
