package kube

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/reauth/reauth/rollout/execmethod"
)

// Exec credential plugins (kubectl's `users[].user.exec`): the command prints an ExecCredential
// (client.authentication.k8s.io/v1 or v1beta1) with a token or a client certificate and key,
// optionally with an expiry. It runs with the kubeconfig's args; its environment is reauth's own
// without the variables reauth read secrets from (execmethod.Env, the filter of the drain hooks
// and exec restarts: a plugin is a third-party binary, a cloud CLI or kubelogin), plus the
// kubeconfig's env and KUBERNETES_EXEC_INFO describing the request (and the cluster, with
// provideClusterInfo). It gets reauth's stderr, and reauth's stdin only when interactiveMode
// allows it and stdin is a terminal. A plugin that does not answer within the timeout is killed
// (with its process group when it has no terminal). The credential is kept until it expires or the
// server answers 401.

const (
	execV1      = "client.authentication.k8s.io/v1"
	execV1beta1 = "client.authentication.k8s.io/v1beta1"
)

// execCluster is ExecCredential's spec.cluster (provideClusterInfo).
type execCluster struct {
	Server                   string `json:"server"`
	TLSServerName            string `json:"tls-server-name,omitempty"`
	InsecureSkipTLSVerify    bool   `json:"insecure-skip-tls-verify,omitempty"`
	CertificateAuthorityData []byte `json:"certificate-authority-data,omitempty"`
	ProxyURL                 string `json:"proxy-url,omitempty"`
	Config                   any    `json:"config,omitempty"`
}

type execCredential struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		Interactive bool         `json:"interactive"`
		Cluster     *execCluster `json:"cluster,omitempty"`
	} `json:"spec"`
	Status *struct {
		ExpirationTimestamp   *time.Time `json:"expirationTimestamp,omitempty"`
		Token                 string     `json:"token,omitempty"`
		ClientCertificateData string     `json:"clientCertificateData,omitempty"`
		ClientKeyData         string     `json:"clientKeyData,omitempty"`
	} `json:"status,omitempty"`
}

// checkExec refuses what kubectl refuses, and API versions client-go no longer has.
func checkExec(x *execConfig) error {
	if x.Command == "" {
		return errors.New("exec plugin without a command")
	}
	switch x.APIVersion {
	case execV1, execV1beta1:
	case "":
		return errors.New("exec plugin without apiVersion: give client.authentication.k8s.io/v1")
	default:
		return fmt.Errorf("exec plugin apiVersion %q is not supported: use %s (or v1beta1)", x.APIVersion, execV1)
	}
	for _, e := range x.Env {
		if e.Name == "" {
			return errors.New("exec plugin env entry without a name")
		}
	}
	switch x.InteractiveMode {
	case "Never", "IfAvailable", "Always":
	case "":
		if x.APIVersion == execV1 {
			return errors.New("exec plugin without interactiveMode (required by client.authentication.k8s.io/v1): give Never, IfAvailable or Always")
		}
		x.InteractiveMode = "IfAvailable" // v1beta1's default
	default:
		return fmt.Errorf("exec plugin interactiveMode %q: give Never, IfAvailable or Always", x.InteractiveMode)
	}
	return nil
}

// DefaultExecTimeout bounds one run of an exec plugin: long enough for a plugin that asks for a
// login on the terminal, short enough that a hung one does not hold the run (and its lock).
const DefaultExecTimeout = 2 * time.Minute

// pluginOptions are reauth's side of running an exec plugin, from Config.
type pluginOptions struct {
	secretEnv []string      // variables the plugin must not see (Config.SecretEnv)
	timeout   time.Duration // 0: DefaultExecTimeout (tests shorten it)
}

type execProvider struct {
	cfg     *execConfig
	cluster *execCluster
	opts    pluginOptions

	mu     sync.Mutex
	cred   *execResult
	expiry time.Time // zero: until the server refuses it
}

type execResult struct {
	token string
	cert  *tls.Certificate
}

func newExecProvider(cfg *execConfig, cluster *execCluster, opts pluginOptions) *execProvider {
	if opts.timeout <= 0 {
		opts.timeout = DefaultExecTimeout
	}
	return &execProvider{cfg: cfg, cluster: cluster, opts: opts}
}

// forget drops the credential (the server refused it): the next request runs the plugin again.
func (p *execProvider) forget() {
	p.mu.Lock()
	p.cred = nil
	p.mu.Unlock()
}

// get returns the cached credential, or runs the plugin.
func (p *execProvider) get(ctx context.Context) (*execResult, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cred != nil && (p.expiry.IsZero() || time.Now().Before(p.expiry)) {
		return p.cred, nil
	}
	cred, expiry, err := p.run(ctx)
	if err != nil {
		return nil, err
	}
	p.cred, p.expiry = cred, expiry
	return cred, nil
}

func (p *execProvider) run(ctx context.Context) (*execResult, time.Time, error) {
	x := p.cfg
	interactive := x.InteractiveMode != "Never" && term.IsTerminal(int(os.Stdin.Fd()))
	if x.InteractiveMode == "Always" && !interactive {
		return nil, time.Time{}, fmt.Errorf("exec plugin %s needs a terminal (interactiveMode Always): run reauth from one", x.Command)
	}
	var info execCredential
	info.APIVersion, info.Kind = x.APIVersion, "ExecCredential"
	info.Spec.Interactive = interactive
	info.Spec.Cluster = p.cluster
	infoJSON, err := json.Marshal(info)
	if err != nil {
		return nil, time.Time{}, err
	}
	out, err := p.start(ctx, interactive, infoJSON)
	if err != nil {
		return nil, time.Time{}, err
	}
	var got execCredential
	if err := json.Unmarshal(out, &got); err != nil {
		return nil, time.Time{}, fmt.Errorf("exec plugin %s printed no ExecCredential JSON (%d bytes)", x.Command, len(out))
	}
	if got.APIVersion != x.APIVersion {
		return nil, time.Time{}, fmt.Errorf("exec plugin %s answered apiVersion %q, the kubeconfig asks for %q", x.Command, got.APIVersion, x.APIVersion)
	}
	st := got.Status
	if st == nil {
		return nil, time.Time{}, fmt.Errorf("exec plugin %s returned no status", x.Command)
	}
	res := &execResult{token: st.Token}
	switch {
	case st.ClientCertificateData != "" || st.ClientKeyData != "":
		if st.ClientCertificateData == "" || st.ClientKeyData == "" {
			return nil, time.Time{}, fmt.Errorf("exec plugin %s returned a client certificate without its key (or a key without its certificate)", x.Command)
		}
		cert, err := tls.X509KeyPair([]byte(st.ClientCertificateData), []byte(st.ClientKeyData))
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("exec plugin %s: client certificate: %v", x.Command, err)
		}
		res.cert = &cert
	case st.Token == "":
		return nil, time.Time{}, fmt.Errorf("exec plugin %s returned neither a token nor a client certificate", x.Command)
	}
	var expiry time.Time
	if st.ExpirationTimestamp != nil {
		expiry = *st.ExpirationTimestamp
	}
	return res, expiry, nil
}

// start runs the plugin once and returns what it printed on stdout.
func (p *execProvider) start(ctx context.Context, interactive bool, infoJSON []byte) ([]byte, error) {
	x := p.cfg
	ctx, cancel := context.WithTimeout(ctx, p.opts.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, x.Command, x.Args...)
	set := make([]string, 0, len(x.Env)+1)
	for _, e := range x.Env {
		set = append(set, e.Name+"="+e.Value)
	}
	set = append(set, "KUBERNETES_EXEC_INFO="+string(infoJSON))
	cmd.Env = execmethod.Env{Drop: p.opts.secretEnv, Set: set}.Environ()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if interactive {
		cmd.Stdin = os.Stdin
	} else {
		// Its own process group, killed whole on timeout: a script's children (a cloud CLI it
		// calls) would otherwise keep stdout open. Not with a terminal: a plugin outside the
		// terminal's foreground group could not read the login it asks for.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	}
	cmd.WaitDelay = time.Second // a grandchild holding stdout must not hold the run
	err := cmd.Run()
	if err == nil {
		return out.Bytes(), nil
	}
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
		hint := x.InstallHint
		if hint == "" {
			hint = "install it or fix users[].user.exec.command in the kubeconfig"
		}
		return nil, fmt.Errorf("exec plugin %s not found: %s", x.Command, hint)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("exec plugin %s did not answer within %s: run it by hand to see what it waits for "+
			"(a login, a network it cannot reach), then run reauth again", x.Command, p.opts.timeout)
	}
	// Not the output: it may hold a partial credential.
	return nil, fmt.Errorf("exec plugin %s failed: %v", x.Command, err)
}
