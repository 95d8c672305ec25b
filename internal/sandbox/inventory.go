package sandbox

import (
	"bytes"
	"path/filepath"

	"go.yaml.in/yaml/v3"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

// The inventory's shape (design.md), exactly: the rolling-restart code parses it strictly.
type invFile struct {
	Products []invProduct `yaml:"products"`
}

type invProduct struct {
	Product string `yaml:"product"`
	Home    string `yaml:"home"`
	Table   string `yaml:"table,omitempty"` // the operator's confirmation of an UNCONFIRMED table (Fisheye)
	// ProofCookie confirms the remember-me cookie format where the catalog's is UNCONFIRMED
	// (Bitbucket, Fisheye): the sandbox builds its cookies exactly so.
	ProofCookie string `yaml:"proof_cookie,omitempty"`
	// WhoAmIPath is the sandbox Crowd's "who am I" (Crowd documents none).
	WhoAmIPath string    `yaml:"whoami_path,omitempty"`
	Admin      *invAdmin `yaml:"admin,omitempty"`
	Nodes      []invNode `yaml:"nodes"`
}

// invAdmin is the admin credential for the products' session API (API mode), by reference.
type invAdmin struct {
	User      string `yaml:"user"`
	TokenFile string `yaml:"token_file"`
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
	Command string `yaml:"command,omitempty"`
	Stop    string `yaml:"stop,omitempty"`
	Start   string `yaml:"start,omitempty"`
}

// inventory renders DIR/reauth.yaml: every node restarts with the exec method through
// `reauth sandbox restart-node` (with StopStart: `stop-node` and `start-node`).
func (c *Cluster) inventory() ([]byte, error) {
	p := invProduct{Product: string(c.st.Product), Home: c.Home(),
		Admin: &invAdmin{User: "admin", TokenFile: filepath.Join(c.st.Dir, "admin-token")}}
	if prod, err := atlassian.Lookup(string(c.st.Product)); err == nil && !prod.Proof.Confirmed {
		p.ProofCookie = prod.Proof.Format
	}
	if c.st.Product == atlassian.Crowd {
		p.WhoAmIPath = CrowdWhoAmIPath
	}
	if c.st.Product == atlassian.Fisheye {
		prod, err := atlassian.Lookup(string(c.st.Product))
		if err != nil {
			return nil, err
		}
		m, err := modelFor(prod)
		if err != nil {
			return nil, err
		}
		p.Table = m.table
	}
	for _, n := range c.Nodes() {
		cmd := func(verb string) string {
			return reauth.ShellQuote(c.st.Exe) + " sandbox " + verb + " --dir " + reauth.ShellQuote(c.st.Dir) + " --node " + reauth.ShellQuote(n.Name)
		}
		e := invExec{Command: cmd("restart-node")}
		if c.st.StopStart {
			e = invExec{Stop: cmd("stop-node"), Start: cmd("start-node")}
		}
		p.Nodes = append(p.Nodes, invNode{Name: n.Name, URL: n.URL, Install: n.Dir, Restart: invRestart{Exec: e}})
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
