package cli

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/reauth/reauth/atlassian"
)

// initFindings are what `reauth init` found, and what it did not.
type initFindings struct {
	Product   atlassian.Product
	Home      string
	Database  string // engine, host, name: no password
	Hazelcast string // Bitbucket's hazelcast.http.sessions, and where it was read
	Cluster   string // where the nodes were read (Confluence's cluster settings)
	Kube      *initKube
	Nodes     []initNode
	NotFound  []string
}

type initKube struct{ Namespace, StatefulSet string }

type initNode struct{ Name, Host, State, Note string }

// defaultPorts are the products' default HTTP ports (their installers' and images' defaults),
// the guess init writes into node URLs.
var defaultPorts = map[atlassian.ProductID]int{
	atlassian.Jira: 8080, atlassian.Confluence: 8090, atlassian.Bitbucket: 7990,
	atlassian.Bamboo: 8085, atlassian.Fisheye: 8060, atlassian.Crowd: 8095,
}

// oneLine keeps text that goes into a YAML comment on its line: a line break in it (an error
// message, a value read from the database) would start a line the parser reads.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// q quotes a YAML scalar (a JSON string is a YAML double-quoted string).
func q(s string) string { return strconv.Quote(s) }

// renderInit writes the inventory text: every guess marked CHECK, every gap as a comment.
func renderInit(f initFindings) []byte {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# reauth inventory for %s, written by `reauth init` from %s.", f.Product.Name, oneLine(f.Home))
	w("# Check every line marked CHECK, then: reauth run --config THIS_FILE --dry-run")
	w("# Database (from the home's %s): %s", f.Product.ConfigFile, oneLine(f.Database))
	if f.Hazelcast != "" {
		w("#")
		w("# Bitbucket hazelcast.http.sessions: %s", oneLine(f.Hazelcast))
		w("#   replicated or sticky sessions outlive a rolling restart: use restart: {strategy: full} (and stop:/start: commands)")
	}
	if f.Cluster != "" {
		w("# Nodes from %s", oneLine(f.Cluster))
	}
	for _, n := range f.NotFound {
		w("# NOT FOUND: %s", oneLine(n))
	}
	w("products:")
	w("  - product: %s", f.Product.ID)
	w("    home: %s", q(f.Home))
	w("    # base_url: https://%s.example.com   # the URL users open (load balancer): the proof replays there too", f.Product.ID)
	if f.Kube != nil {
		w("    kubernetes:")
		if f.Kube.Namespace != "" {
			w("      namespace: %s", q(f.Kube.Namespace))
		}
		w("      statefulset: %s", q(f.Kube.StatefulSet))
		w("      # url_template: http://{pod}.{service}.{namespace}.svc:%d   # CHECK: how reauth reaches each pod", defaultPorts[f.Product.ID])
		return b.Bytes()
	}
	w("    nodes:")
	nodes := f.Nodes
	if len(nodes) == 0 {
		nodes = []initNode{{Name: "node1", Host: "127.0.0.1", Note: "a placeholder, no node was found: CHECK"}}
	}
	for _, n := range nodes {
		host := n.Host
		if host == "" {
			host = "127.0.0.1"
		}
		w("      - name: %s%s", q(n.Name), nodeNote(n))
		w("        url: %s   # CHECK: the node's own address (not the load balancer); port %d is %s's default",
			q(fmt.Sprintf("http://%s:%d", host, defaultPorts[f.Product.ID])), defaultPorts[f.Product.ID], f.Product.Name)
		w("        restart:")
		w("          ssh: {host: %s, command: %s}   # CHECK: user, key_file, the service's name",
			q(host), q("sudo systemctl restart "+string(f.Product.ID)))
	}
	return b.Bytes()
}

func nodeNote(n initNode) string {
	switch {
	case n.Note != "":
		return "   # " + oneLine(n.Note)
	case n.State != "":
		return "   # clusternode state: " + oneLine(n.State)
	}
	return ""
}
