package atlassian

import (
	"path/filepath"
	"strings"

	"github.com/reauth/reauth/internal/boundedfile"
)

// ConfluenceCluster is what Confluence Data Center's confluence.cfg.xml says of its cluster:
// how nodes find each other and, for TCP/IP discovery, the peers' addresses. UNCONFIRMED key
// names (confluence.cluster.join.type, confluence.cluster.peers: as Confluence's setup writes
// them for TCP/IP discovery): `reauth init` marks what it read from them as to be checked.
type ConfluenceCluster struct {
	File     string
	JoinType string   // multicast, tcp_ip, aws, kubernetes… ("": not a cluster, or not said)
	Peers    []string // addresses, for tcp_ip
}

// ReadConfluenceCluster reads the cluster settings of the Confluence home.
func ReadConfluenceCluster(home string) (ConfluenceCluster, error) {
	c := ConfluenceCluster{File: filepath.Join(home, "confluence.cfg.xml")}
	b, err := boundedfile.Read(c.File, maxConfigSize)
	if err != nil {
		return c, err
	}
	root, _, err := parseXMLTolerant(b)
	if err != nil {
		return c, err
	}
	for _, p := range root.findAll("property", nil) {
		name, _ := p.attr("name")
		val := strings.TrimSpace(p.Text)
		switch strings.TrimSpace(name) {
		case "confluence.cluster.join.type":
			c.JoinType = val
		case "confluence.cluster.peers":
			for _, peer := range strings.Split(val, ",") {
				if peer = strings.TrimSpace(peer); peer != "" {
					c.Peers = append(c.Peers, peer)
				}
			}
		}
	}
	return c, nil
}
