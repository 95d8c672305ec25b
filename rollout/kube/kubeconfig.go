package kube

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/reauth/reauth/internal/boundedfile"
)

// Limits on what is read from files the kubeconfig names (pipes and devices are refused).
const (
	maxKubeconfig = 16 << 20 // a kubeconfig listing many clusters can be megabytes
	maxSmallFile  = 1 << 20  // a CA bundle, a certificate, a key, a token
)

// The kubeconfig, read as kubectl reads it, without client-go (whose loader and the API machinery
// under it were most of reauth's cold build). What is supported:
//
//   - files: --kubeconfig / the inventory's kubeconfig (that file only, it must exist), else every
//     file of $KUBECONFIG (path-list; missing files skipped), else ~/.kube/config. Several files
//     merge as clientcmd merges them: the first file to name a cluster, user or context wins it
//     (whole entry), and the first file to set current-context wins. Relative file references
//     (certificate-authority, client-certificate, client-key, tokenFile, and an exec command with
//     a path separator) are relative to the file that holds them.
//   - context: the inventory's context, else current-context; namespace: the inventory's, else the
//     context's, else the pod's own inside a cluster, else "default".
//   - clusters: server (a path prefix is kept), tls-server-name, certificate-authority(-data),
//     insecure-skip-tls-verify, proxy-url (http, https, socks5; else the *_PROXY variables).
//   - users: token, tokenFile (re-read every minute, as client-go does for rotated tokens),
//     client-certificate(-data) + client-key(-data), username/password, impersonation (as,
//     as-uid, as-groups, as-user-extra), and exec credential plugins
//     (client.authentication.k8s.io/v1 and v1beta1: command, args, env, installHint,
//     provideClusterInfo, interactiveMode Never/IfAvailable/Always; exec.go).
//   - in-cluster: with no kubeconfig at all, KUBERNETES_SERVICE_HOST/PORT and the pod's service
//     account (token, ca.crt, namespace).
//
// Refused with an error saying what to do: auth-provider plugins (client-go removed gcp and azure;
// oidc: use an exec plugin such as kubelogin), exec API v1alpha1 (removed from client-go), and the
// combinations kubectl refuses too (insecure-skip-tls-verify with a CA, two CA sources, a
// certificate without its key, a token together with a password). As with kubectl, credentials
// are sent to https servers only.
//
// Where kubectl reads a file differently than it looks, reauth refuses it (kubecheck.go, kubehints.go;
// issue #32): a name twice in one list (kubectl refuses it too), a number, bool (YAML 1.1: unquoted
// yes/no/on/off) or null where a string belongs (kubectl refuses numbers and bools), a key twice in
// one mapping (kubectl takes the last value), a server without http:// or https:// (client-go
// guesses), and a context whose user has nothing to identify it on an https server (kubectl
// prompts for a user name). Keys no kubeconfig type has are named in warnings (Client.Warnings).

type kubeconfigFile struct {
	CurrentContext string `yaml:"current-context"`
	Clusters       []struct {
		Name    string     `yaml:"name"`
		Cluster *kcCluster `yaml:"cluster"`
	} `yaml:"clusters"`
	Users []struct {
		Name string  `yaml:"name"`
		User *kcUser `yaml:"user"`
	} `yaml:"users"`
	Contexts []struct {
		Name    string     `yaml:"name"`
		Context *kcContext `yaml:"context"`
	} `yaml:"contexts"`
}

type kcCluster struct {
	Server                   string `yaml:"server"`
	TLSServerName            string `yaml:"tls-server-name"`
	InsecureSkipTLSVerify    bool   `yaml:"insecure-skip-tls-verify"`
	CertificateAuthority     string `yaml:"certificate-authority"`
	CertificateAuthorityData string `yaml:"certificate-authority-data"`
	ProxyURL                 string `yaml:"proxy-url"`
	Extensions               []struct {
		Name      string `yaml:"name"`
		Extension any    `yaml:"extension"`
	} `yaml:"extensions"`
}

type kcUser struct {
	ClientCertificate     string              `yaml:"client-certificate"`
	ClientCertificateData string              `yaml:"client-certificate-data"`
	ClientKey             string              `yaml:"client-key"`
	ClientKeyData         string              `yaml:"client-key-data"`
	Token                 string              `yaml:"token"`
	TokenFile             string              `yaml:"tokenFile"`
	As                    string              `yaml:"as"`
	AsUID                 string              `yaml:"as-uid"`
	AsGroups              []string            `yaml:"as-groups"`
	AsUserExtra           map[string][]string `yaml:"as-user-extra"`
	Username              string              `yaml:"username"`
	Password              string              `yaml:"password"`
	AuthProvider          *struct {
		Name string `yaml:"name"`
	} `yaml:"auth-provider"`
	Exec *execConfig `yaml:"exec"`
}

type kcContext struct {
	Cluster   string `yaml:"cluster"`
	User      string `yaml:"user"`
	Namespace string `yaml:"namespace"`
}

// execConfig is a user's exec credential plugin.
type execConfig struct {
	Command string   `yaml:"command"`
	Args    []string `yaml:"args"`
	Env     []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
	APIVersion         string `yaml:"apiVersion"`
	InstallHint        string `yaml:"installHint"`
	ProvideClusterInfo bool   `yaml:"provideClusterInfo"`
	InteractiveMode    string `yaml:"interactiveMode"`
}

// kubeconfig is the merge of the files read: entries by name, each from the first file naming it.
type kubeconfig struct {
	files          []string
	currentContext string
	clusters       map[string]*kcCluster
	users          map[string]*kcUser
	contexts       map[string]*kcContext
	unknown        map[string][]unknownKey // by entry ("users/u"; "" the top level), from the file that won it
}

func (k *kubeconfig) empty() bool {
	return k.currentContext == "" && len(k.clusters) == 0 && len(k.users) == 0 && len(k.contexts) == 0
}

// restConfig is what a connection needs, resolved from the kubeconfig (or the pod's service account).
type restConfig struct {
	Server        string
	TLSServerName string
	Insecure      bool
	CAData        []byte // PEM; none: the system's roots
	CertData      []byte // PEM client certificate and key
	KeyData       []byte
	Token         string
	TokenFile     string // re-read; wins over Token, as in client-go
	Username      string
	Password      string
	As            string
	AsUID         string
	AsGroups      []string
	AsUserExtra   map[string][]string
	ProxyURL      string
	Exec          *execConfig
	ExecCluster   *execCluster // for provideClusterInfo
	source        string       // the kubeconfig files or "in-cluster service account", for errors
	warnings      []string     // what was read but is probably not what was meant (unknown keys)
}

// env is where the loader looks: variables, the home directory and the service account directory
// (tests point them elsewhere).
type env struct {
	getenv func(string) string
	home   string
	saDir  string
}

func osEnv() env {
	home, _ := os.UserHomeDir()
	return env{getenv: os.Getenv, home: home, saDir: serviceAccountDir}
}

var errNoConfig = errors.New("no kubeconfig")

// load reads the kubeconfig files kubectl would read; errNoConfig if there is none at all.
func (e env) load(explicit string) (*kubeconfig, error) {
	var paths []string
	mustExist := false
	switch {
	case explicit != "":
		paths, mustExist = []string{explicit}, true
	case e.getenv("KUBECONFIG") != "":
		seen := map[string]bool{}
		for _, p := range filepath.SplitList(e.getenv("KUBECONFIG")) {
			if p != "" && !seen[p] {
				seen[p] = true
				paths = append(paths, p)
			}
		}
	case e.home != "":
		paths = []string{filepath.Join(e.home, ".kube", "config")}
	}
	k := &kubeconfig{clusters: map[string]*kcCluster{}, users: map[string]*kcUser{}, contexts: map[string]*kcContext{},
		unknown: map[string][]unknownKey{}}
	for _, p := range paths {
		data, err := boundedfile.Read(p, maxKubeconfig)
		if errors.Is(err, os.ErrNotExist) && !mustExist {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read kubeconfig: %w", err)
		}
		k.files = append(k.files, p)
		if err := k.merge(p, data); err != nil {
			return nil, err
		}
	}
	if len(k.files) == 0 || k.empty() {
		return k, errNoConfig
	}
	return k, nil
}

// merge adds one file's entries: names already taken by an earlier file keep their entry. The
// file is checked as a YAML tree first (kubecheck.go), so that what kubectl would read differently
// is refused rather than decoded.
func (k *kubeconfig) merge(path string, data []byte) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fmt.Errorf("kubeconfig %s is not valid YAML: %s", path, yamlLine(err))
	}
	found, err := checkTree(&root)
	if err != nil {
		return fmt.Errorf("kubeconfig %s %w", path, err)
	}
	var f kubeconfigFile
	if err := root.Decode(&f); err != nil {
		return fmt.Errorf("kubeconfig %s is not a kubeconfig: %s", path, yamlLine(err))
	}
	dir, _ := filepath.Abs(filepath.Dir(path))
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	// taken reports whether this file wins the entry (list/name), and if so keeps its unknown keys.
	taken := func(list, name string, earlier bool) bool {
		if earlier {
			return false
		}
		for _, u := range found.unknown[list+"/"+name] {
			u.file = path
			k.unknown[list+"/"+name] = append(k.unknown[list+"/"+name], u)
		}
		return true
	}
	for _, u := range found.unknown[""] {
		u.file = path
		k.unknown[""] = append(k.unknown[""], u)
	}
	if k.currentContext == "" {
		k.currentContext = f.CurrentContext
	}
	// A name given twice within one file was refused by checkTree, as kubectl refuses it.
	for _, c := range f.Clusters {
		if c.Cluster == nil {
			c.Cluster = &kcCluster{}
		}
		abs(&c.Cluster.CertificateAuthority)
		if _, ok := k.clusters[c.Name]; taken("clusters", c.Name, ok) {
			k.clusters[c.Name] = c.Cluster
		}
	}
	for _, u := range f.Users {
		if u.User == nil {
			u.User = &kcUser{}
		}
		abs(&u.User.ClientCertificate)
		abs(&u.User.ClientKey)
		abs(&u.User.TokenFile)
		if u.User.Exec != nil && strings.ContainsRune(u.User.Exec.Command, filepath.Separator) {
			abs(&u.User.Exec.Command)
		}
		if _, ok := k.users[u.Name]; taken("users", u.Name, ok) {
			k.users[u.Name] = u.User
		}
	}
	for _, c := range f.Contexts {
		if c.Context == nil {
			c.Context = &kcContext{}
		}
		if _, ok := k.contexts[c.Name]; taken("contexts", c.Name, ok) {
			k.contexts[c.Name] = c.Context
		}
	}
	return nil
}

// yamlLine keeps a YAML error's position and kind but never the values it quotes (a kubeconfig
// holds tokens and keys).
func yamlLine(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "`"); i >= 0 {
		msg = msg[:i] + "(value not shown)"
	}
	return msg
}

// resolve picks the context, its cluster and user, and the namespace, as kubectl does.
func (e env) resolve(cfg Config) (*restConfig, string, error) {
	k, err := e.load(cfg.Kubeconfig)
	if errors.Is(err, errNoConfig) && cfg.Kubeconfig == "" {
		if !e.inClusterPossible() {
			where := "~/.kube/config"
			if e.getenv("KUBECONFIG") != "" {
				where = "$KUBECONFIG (" + e.getenv("KUBECONFIG") + ")"
			}
			return nil, "", fmt.Errorf("no kubeconfig found in %s, and not inside a cluster (KUBERNETES_SERVICE_HOST unset)", where)
		}
		rc, err := e.inCluster()
		if err != nil {
			return nil, "", err
		}
		ns := cfg.Namespace
		if ns == "" {
			ns = e.inClusterNamespace()
		}
		return rc, ns, nil
	}
	if errors.Is(err, errNoConfig) {
		return nil, "", fmt.Errorf("kubeconfig %s defines no cluster, user or context", cfg.Kubeconfig)
	}
	if err != nil {
		return nil, "", err
	}
	source := strings.Join(k.files, string(filepath.ListSeparator))
	name := cfg.Context
	if name == "" {
		name = k.currentContext
	}
	if name == "" {
		hint := ""
		if keys := k.unknown[""]; len(keys) > 0 {
			hint = " (keys kubectl does not know: " + describeUnknown(keys) + ")"
		}
		return nil, "", fmt.Errorf("kubeconfig %s has no current-context%s: name one (kubernetes.context)", source, hint)
	}
	kctx, ok := k.contexts[name]
	if !ok {
		return nil, "", fmt.Errorf("context %q not found in kubeconfig %s", name, source)
	}
	cluster, ok := k.clusters[kctx.Cluster]
	if !ok {
		return nil, "", fmt.Errorf("cluster %q (of context %q) not found in kubeconfig %s", kctx.Cluster, name, source)
	}
	user := &kcUser{}
	if kctx.User != "" {
		if user, ok = k.users[kctx.User]; !ok {
			return nil, "", fmt.Errorf("user %q (of context %q) not found in kubeconfig %s", kctx.User, name, source)
		}
	}
	rc, err := build(cluster, kctx.Cluster, user, kctx.User)
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig %s, context %q: %w%s", source, name, err, k.unknownHint(kctx))
	}
	if err := k.identifies(rc, user, kctx.User); err != nil {
		return nil, "", fmt.Errorf("kubeconfig %s, context %q: %w", source, name, err)
	}
	rc.source = source
	rc.warnings = k.warnings(rc, name, kctx, user)
	ns := cfg.Namespace
	if ns == "" {
		ns = kctx.Namespace
	}
	if ns == "" && e.inClusterPossible() {
		ns = e.inClusterNamespace()
	}
	if ns == "" {
		ns = "default"
	}
	return rc, ns, nil
}

// build checks a cluster and user the way kubectl's validation does and reads the files they name.
func build(c *kcCluster, clusterName string, u *kcUser, userName string) (*restConfig, error) {
	if c.Server == "" {
		return nil, fmt.Errorf("cluster %q has no server", clusterName)
	}
	if _, err := serverURL(c.Server); err != nil {
		return nil, fmt.Errorf("cluster %q: %w", clusterName, err)
	}
	rc := &restConfig{Server: c.Server, TLSServerName: c.TLSServerName, Insecure: c.InsecureSkipTLSVerify,
		ProxyURL: c.ProxyURL, Token: u.Token, TokenFile: u.TokenFile, Username: u.Username, Password: u.Password,
		As: u.As, AsUID: u.AsUID, AsGroups: u.AsGroups, AsUserExtra: u.AsUserExtra}
	var err error
	if c.CertificateAuthority != "" && c.CertificateAuthorityData != "" {
		return nil, fmt.Errorf("cluster %q has both certificate-authority and certificate-authority-data: keep one", clusterName)
	}
	if rc.CAData, err = dataOrFile(c.CertificateAuthorityData, c.CertificateAuthority, "certificate-authority"); err != nil {
		return nil, fmt.Errorf("cluster %q: %w", clusterName, err)
	}
	if rc.Insecure && len(rc.CAData) > 0 {
		return nil, fmt.Errorf("cluster %q: insecure-skip-tls-verify together with a certificate authority is not allowed: remove one", clusterName)
	}
	if u.AuthProvider != nil {
		return nil, fmt.Errorf("user %q uses the %q auth-provider, which reauth does not support (client-go itself dropped gcp and azure): use an exec credential plugin instead (gke-gcloud-auth-plugin, kubelogin)", userName, u.AuthProvider.Name)
	}
	if (u.ClientCertificate != "" && u.ClientCertificateData != "") || (u.ClientKey != "" && u.ClientKeyData != "") {
		return nil, fmt.Errorf("user %q has a client certificate or key both as a file and as data: keep one", userName)
	}
	if rc.CertData, err = dataOrFile(u.ClientCertificateData, u.ClientCertificate, "client-certificate"); err != nil {
		return nil, fmt.Errorf("user %q: %w", userName, err)
	}
	if rc.KeyData, err = dataOrFile(u.ClientKeyData, u.ClientKey, "client-key"); err != nil {
		return nil, fmt.Errorf("user %q: %w", userName, err)
	}
	if (len(rc.CertData) > 0) != (len(rc.KeyData) > 0) {
		return nil, fmt.Errorf("user %q has a client certificate without its key (or a key without its certificate): give both", userName)
	}
	if (u.Token != "" || u.TokenFile != "") && (u.Username != "" || u.Password != "") {
		return nil, fmt.Errorf("user %q has both a token and a username/password: keep one", userName)
	}
	if u.Exec != nil {
		if err := checkExec(u.Exec); err != nil {
			return nil, fmt.Errorf("user %q: %w", userName, err)
		}
		rc.Exec = u.Exec
		if u.Exec.ProvideClusterInfo {
			rc.ExecCluster = &execCluster{Server: c.Server, TLSServerName: c.TLSServerName, InsecureSkipTLSVerify: c.InsecureSkipTLSVerify,
				CertificateAuthorityData: rc.CAData, ProxyURL: c.ProxyURL}
			for _, x := range c.Extensions {
				if x.Name == "client.authentication.k8s.io/exec" {
					rc.ExecCluster.Config = jsonable(x.Extension)
				}
			}
		}
	}
	return rc, nil
}

// dataOrFile is a kubeconfig's base64 "-data" field, or else the file it names.
func dataOrFile(b64, file, field string) ([]byte, error) {
	if b64 != "" {
		data, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), ""))
		if err != nil {
			return nil, fmt.Errorf("%s-data is not base64: %v", field, err)
		}
		return data, nil
	}
	if file == "" {
		return nil, nil
	}
	data, err := boundedfile.Read(file, maxSmallFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return data, nil
}

// jsonable turns a YAML-decoded value into one encoding/json can marshal (maps keyed by strings).
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonable(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonable(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = jsonable(e)
		}
		return x
	}
	return v
}
