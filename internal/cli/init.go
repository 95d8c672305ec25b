package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/boundedfile"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/sqlstore"
)

type initOptions struct {
	product, home, kube, out string
	connect                  time.Duration
}

// newInitCmd is `reauth init`: a first reauth.yaml from what the product's home and database say.
func newInitCmd(streams IO) *cobra.Command {
	o := &initOptions{}
	c := &cobra.Command{
		Use:   "init --product P --home DIR [--kube-statefulset [NS/]NAME] [-o reauth.yaml]",
		Short: "Write a commented reauth.yaml with the nodes reauth can find, for you to check",
		Long: `init writes a first inventory for the incident steps: the product and its home, the nodes it can
find with a restart method for each, and, as comments, what it could not find and must be filled in.

Where the nodes come from: Jira Data Center's clusternode table (node id, state, address; read
only), or the Kubernetes StatefulSet you name (its pods are the nodes). Bitbucket's
hazelcast.http.sessions is shown at the top: replicated sessions outlive a rolling restart. Node
URLs take the product's default port and restarts an ssh 'systemctl restart': both are marked as
guesses to check. The file is checked by the inventory parser before it is written, never
overwrites a file, and is written 0600. Then: reauth run --config FILE --dry-run.`,
		Example: `  reauth init --product jira --home /var/atlassian/application-data/jira
  reauth init --product confluence --home /var/atlassian/application-data/confluence --kube-statefulset atlassian/confluence -o confluence.yaml`,
		Args: needArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error { return runInit(c.Context(), streams, o) },
	}
	f := c.Flags()
	f.StringVar(&o.product, "product", "", "the product: "+strings.Join(atlassian.Names(), ", "))
	f.StringVar(&o.home, "home", "", "the product's home directory (its database settings, and where the nodes are registered)")
	f.StringVar(&o.kube, "kube-statefulset", "", "the product runs in Kubernetes: its StatefulSet, as NAMESPACE/NAME (or NAME in the default namespace)")
	f.StringVarP(&o.out, "output", "o", "reauth.yaml", "the inventory file to write (never overwritten)")
	addConnectTimeout(f, &o.connect)
	return c
}

func runInit(ctx context.Context, streams IO, o *initOptions) error {
	if o.product == "" || o.home == "" {
		return reauth.Usage("pass --product P and --home DIR", "init needs --product and --home")
	}
	if _, err := os.Lstat(o.out); err == nil {
		return reauth.Refused("pass -o NEWFILE, or move the existing file away", "%s exists: init never overwrites an inventory", o.out)
	}
	home, err := filepath.Abs(o.home) // the inventory resolves a relative path against its own directory
	if err != nil {
		return reauth.Usage("pass --home as an absolute path", "--home %q: %v", o.home, err)
	}
	d, err := atlassian.Discover(atlassian.DiscoverOptions{Product: atlassian.ProductID(o.product), Home: home, Getenv: streams.getenv})
	if err != nil {
		return err
	}
	fd := initFindings{Product: d.Product, Home: d.Home, Database: d.Database.String()}
	if err := fd.kubernetes(o.kube); err != nil {
		return err
	}
	fd.hazelcast()
	if fd.Kube == nil {
		fd.clusterNodes(ctx, d, o.connect)
	}
	text := renderInit(fd)
	if _, err := inventory.Parse(text, o.out); err != nil {
		return fmt.Errorf("init wrote an inventory its own parser refuses (a bug: please report it): %w", err)
	}
	if err := writeNewFile(o.out, text, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(streams.Out, "Wrote %s: %d node(s) found. Check every line marked CHECK, then:\n  reauth run --config %s --dry-run\n",
		o.out, len(fd.Nodes), reauth.ShellQuote(o.out))
	for _, n := range fd.NotFound {
		fmt.Fprintf(streams.Out, "  not found: %s\n", n)
	}
	return nil
}

// kubernetes reads --kube-statefulset.
func (f *initFindings) kubernetes(v string) error {
	if v == "" {
		return nil
	}
	ns, name, ok := strings.Cut(v, "/")
	if !ok {
		ns, name = "", v
	}
	if name == "" || strings.ContainsAny(v, " \t\n:") || strings.Count(v, "/") > 1 {
		return reauth.Usage("pass --kube-statefulset NAMESPACE/NAME, e.g. atlassian/jira", "bad --kube-statefulset %q", v)
	}
	f.Kube = &initKube{Namespace: ns, StatefulSet: name}
	return nil
}

// hazelcast reads Bitbucket's hazelcast.http.sessions from the home's bitbucket.properties.
func (f *initFindings) hazelcast() {
	if f.Product.ID != atlassian.Bitbucket {
		return
	}
	path := filepath.Join(f.Home, "shared", "bitbucket.properties")
	b, err := boundedfile.Read(path, 1<<20)
	if err != nil {
		f.NotFound = append(f.NotFound, "hazelcast.http.sessions: "+path+" not readable ("+err.Error()+"); state it with hazelcast_http_sessions:")
		return
	}
	mode, ok, err := atlassian.HazelcastSessionsFromProperties(b)
	switch {
	case err != nil:
		f.NotFound = append(f.NotFound, "hazelcast.http.sessions: "+err.Error())
	case !ok:
		f.Hazelcast = "local (not set in " + path + ": the default)"
	default:
		f.Hazelcast = mode + " (" + path + ")"
	}
}

// clusterNodes reads Jira's clusternode table (reads only); other products' nodes are not
// registered anywhere reauth reads.
func (f *initFindings) clusterNodes(ctx context.Context, d atlassian.Discovery, timeout time.Duration) {
	if f.Product.ID == atlassian.Confluence {
		f.confluencePeers()
		return
	}
	if f.Product.ID != atlassian.Jira {
		f.NotFound = append(f.NotFound, "the nodes: "+f.Product.Name+" registers them nowhere reauth reads; list each node's URL and restart")
		return
	}
	st, err := sqlstore.Open(ctx, d.Database, d.Product, sqlstore.Options{ConnectTimeout: timeout})
	if err != nil {
		f.NotFound = append(f.NotFound, "the nodes: the database could not be read ("+err.Error()+")")
		return
	}
	defer st.Close()
	nodes, ok, err := st.JiraClusterNodes(ctx)
	switch {
	case err != nil:
		f.NotFound = append(f.NotFound, "the nodes: "+err.Error())
	case !ok || len(nodes) == 0:
		f.NotFound = append(f.NotFound, "the nodes: no clusternode table rows (Jira Server, one node): check the node below")
	}
	for _, n := range nodes {
		host := n.IP
		if !plainHost(host) {
			f.NotFound = append(f.NotFound, fmt.Sprintf("node %q: its address %q is not a plain host name or IPv4 address", n.ID, n.IP))
			host = ""
		}
		f.Nodes = append(f.Nodes, initNode{Name: n.ID, Host: host, State: n.State})
	}
}

// confluencePeers takes Confluence's nodes from its cluster settings (TCP/IP discovery's peers).
func (f *initFindings) confluencePeers() {
	c, err := atlassian.ReadConfluenceCluster(f.Home)
	switch {
	case err != nil:
		f.NotFound = append(f.NotFound, "the nodes: "+err.Error())
		return
	case len(c.Peers) == 0:
		why := "it names no peers"
		if c.JoinType != "" {
			why = "its nodes join by " + c.JoinType + ", which names no addresses"
		}
		f.NotFound = append(f.NotFound, "the nodes: "+c.File+": "+why+"; list each node's URL and restart")
		return
	}
	f.Cluster = fmt.Sprintf("%s: confluence.cluster.join.type %s, peers %s (UNCONFIRMED key names: CHECK)", c.File, c.JoinType, strings.Join(c.Peers, ", "))
	for i, p := range c.Peers {
		host := p
		if !plainHost(host) {
			f.NotFound = append(f.NotFound, fmt.Sprintf("peer %q is not a plain host name or IPv4 address", p))
			host = ""
		}
		f.Nodes = append(f.Nodes, initNode{Name: fmt.Sprintf("node%d", i+1), Host: host})
	}
}

// plainHost says whether h can go into a URL as it is: letters, digits, dots and dashes.
func plainHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}
