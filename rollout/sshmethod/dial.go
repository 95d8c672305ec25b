package sshmethod

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strconv"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/boundedfile"
)

// Endpoint is one SSH server on the way to a node: a jump host (ProxyJump) or the node itself.
// Each is authenticated and has its host key checked against its own known_hosts files.
type Endpoint struct {
	Name           string // as the inventory or ProxyJump names it (for messages and the route)
	Host           string
	Port           int
	User           string
	KeyFiles       []string // nil: the default key files (when no agent)
	IdentitiesOnly bool     // only KeyFiles' keys, and the agent's keys among them
	KnownHosts     []string // nil: ~/.ssh/known_hosts
}

// Addr is host:port.
func (e Endpoint) Addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// target is the node itself as an Endpoint.
func (c Config) target() Endpoint {
	kh := c.KnownHostsFiles
	if c.KnownHosts != "" {
		kh = []string{c.KnownHosts}
	}
	return Endpoint{Name: c.Alias, Host: c.Host, Port: c.Port, User: c.User, KeyFiles: c.KeyFiles,
		IdentitiesOnly: c.IdentitiesOnly, KnownHosts: kh}
}

// dial connects to the node through its jump hosts, one after the other, each hop's TCP stream
// carried by the previous hop's connection. It returns every client, the node's last.
func dial(ctx context.Context, cfg Config) ([]*ssh.Client, error) {
	route := append(append([]Endpoint(nil), cfg.Jumps...), cfg.target())
	var clients []*ssh.Client
	fail := func(err error) ([]*ssh.Client, error) {
		closeAll(clients)
		return nil, err
	}
	for i, ep := range route {
		label := "ssh " + ep.Addr()
		if i < len(route)-1 {
			label = fmt.Sprintf("ssh jump host %s (%s)", ep.Name, ep.Addr())
		}
		var conn net.Conn
		var err error
		cctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
		if i == 0 {
			d := net.Dialer{Timeout: cfg.ConnectTimeout}
			conn, err = d.DialContext(cctx, "tcp", ep.Addr())
		} else {
			conn, err = clients[i-1].DialContext(cctx, "tcp", ep.Addr())
		}
		cancel()
		if err != nil {
			hint := "check the host, port and that sshd runs on the node"
			if i > 0 {
				hint = fmt.Sprintf("check that %s may open connections to %s (AllowTcpForwarding) and the address as the jump host sees it", route[i-1].Name, ep.Addr())
			}
			return fail(reauth.Refused(hint, "%s: connect: %v", label, err))
		}
		c, err := handshake(conn, ep, cfg, label)
		if err != nil {
			return fail(err)
		}
		clients = append(clients, c)
	}
	return clients, nil
}

func closeAll(clients []*ssh.Client) {
	for i := len(clients) - 1; i >= 0; i-- {
		clients[i].Close()
	}
}

// handshake authenticates on conn, checking the host key against ep's known_hosts files.
func handshake(conn net.Conn, ep Endpoint, cfg Config, label string) (*ssh.Client, error) {
	check, khPaths, err := hostKeyCheck(ep, cfg, label)
	if err != nil {
		conn.Close()
		return nil, err
	}
	var offered ssh.PublicKey
	callback := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		offered = key
		return check(hostname, remote, key)
	}
	auths, closeAgent, err := authMethods(cfg, ep)
	if err != nil {
		conn.Close()
		return nil, err
	}
	defer closeAgent()
	conf := &ssh.ClientConfig{
		User:              ep.User,
		Auth:              auths,
		HostKeyCallback:   callback,
		HostKeyAlgorithms: knownAlgorithms(check, ep.Addr()),
		Timeout:           cfg.ConnectTimeout,
	}
	// The handshake and authentication have the same deadline as the connect.
	_ = conn.SetDeadline(time.Now().Add(cfg.ConnectTimeout))
	c, chans, reqs, err := ssh.NewClientConn(conn, ep.Addr(), conf)
	if err != nil {
		conn.Close()
		return nil, handshakeError(err, label, khPaths, ep, cfg, offered)
	}
	_ = conn.SetDeadline(time.Time{})
	client := ssh.NewClient(c, chans, reqs)
	if cfg.ServerAliveInterval > 0 {
		go keepAlive(client, cfg.ServerAliveInterval, cfg.ServerAliveCountMax)
	}
	return client, nil
}

// hostKeyCheck opens ep's known_hosts files (missing ones are skipped, as ssh does; none at all
// is a refusal, and so is a FIFO or a device, which would block or never end).
func hostKeyCheck(ep Endpoint, cfg Config, label string) (ssh.HostKeyCallback, string, error) {
	paths := ep.KnownHosts
	if len(paths) == 0 {
		paths = []string{"~/.ssh/known_hosts"}
	}
	var found []string
	var firstErr error
	for _, p := range paths {
		p = reauth.ExpandHome(p, cfg.Getenv)
		f, err := boundedfile.Open(p)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		f.Close()
		found = append(found, p)
	}
	shown := reauth.ExpandHome(paths[0], cfg.Getenv)
	if len(found) == 0 || (firstErr != nil && !errors.Is(firstErr, fs.ErrNotExist)) {
		return nil, shown, reauth.Refused(fmt.Sprintf("create it with the host's verified key: ssh-keyscan -p %d %s >> %s (then compare the fingerprint with the server's)", ep.Port, ep.Host, shown),
			"%s: known_hosts file %s: %v", label, shown, firstErr)
	}
	check, err := knownhosts.New(found...)
	if err != nil {
		return nil, shown, reauth.Refused("fix or regenerate the known_hosts file", "%s: read known_hosts %s: %v", label, shown, err)
	}
	return check, found[0], nil
}

// keepAlive asks the server for a reply every interval (ServerAliveInterval) and closes the
// connection after max intervals without one, so a command on a dead link fails instead of hanging.
func keepAlive(c *ssh.Client, interval time.Duration, max int) {
	if max < 1 {
		max = 3
	}
	closed := make(chan struct{})
	go func() { _ = c.Wait(); close(closed) }()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	missed := 0
	for {
		select {
		case <-closed:
			return
		case <-tick.C:
		}
		reply := make(chan error, 1)
		go func() { _, _, err := c.SendRequest("keepalive@openssh.com", true, nil); reply <- err }()
		select {
		case err := <-reply:
			if err != nil {
				c.Close()
				return
			}
			missed = 0
		case <-tick.C:
			if missed++; missed >= max {
				c.Close()
				return
			}
		case <-closed:
			return
		}
	}
}

// knownAlgorithms lists the host key types known_hosts has for addr, so that the server is asked
// for a key we can check (else it may offer another type and look like a mismatch).
func knownAlgorithms(check ssh.HostKeyCallback, addr string) []string {
	// The remote address is not looked at when a host name is given; a name that resolves only
	// behind a jump host must not need resolving here.
	err := check(addr, &net.TCPAddr{IP: net.IPv4zero}, probeKey{})
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) || len(ke.Want) == 0 {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	for _, k := range ke.Want {
		t := k.Key.Type()
		variants := []string{t}
		if t == ssh.KeyAlgoRSA {
			variants = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
		}
		for _, v := range variants {
			if !seen[v] {
				seen[v] = true
				algos = append(algos, v)
			}
		}
	}
	return algos
}

// probeKey is a key no known_hosts line has: checking it returns the lines that exist for a host.
type probeKey struct{}

func (probeKey) Type() string                        { return "reauth-probe" }
func (probeKey) Marshal() []byte                     { return []byte("reauth-probe") }
func (probeKey) Verify([]byte, *ssh.Signature) error { return errors.New("probe key") }

func handshakeError(err error, label, khPath string, ep Endpoint, cfg Config, offered ssh.PublicKey) error {
	var ke *knownhosts.KeyError
	if errors.As(err, &ke) && offered != nil {
		fp := ssh.FingerprintSHA256(offered)
		if len(ke.Want) == 0 {
			return reauth.Refused(fmt.Sprintf("if %s is the host's real key (ask its admin, or run `ssh-keygen -lf /etc/ssh/ssh_host_%s_key.pub` on it), add it:\n  ssh-keyscan -p %d -t %s %s >> %s",
				fp, keyFileType(offered.Type()), ep.Port, offered.Type(), ep.Host, khPath),
				"%s: host key unknown: the server offered %s %s, which is not in %s", label, offered.Type(), fp, khPath)
		}
		w := ke.Want[0]
		return reauth.Refused(fmt.Sprintf("someone may be intercepting the connection. If the host's key changed on purpose, remove the old entry (ssh-keygen -R '[%s]:%d' -f %s) and add the new one after checking it", ep.Host, ep.Port, w.Filename),
			"%s: HOST KEY MISMATCH: the server offered %s %s but %s:%d expects %s", label, offered.Type(), fp, w.Filename, w.Line, ssh.FingerprintSHA256(w.Key))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return reauth.Refused("check the network and the host's sshd", "%s: handshake timed out after %v", label, cfg.ConnectTimeout)
	}
	return reauth.Refused("check the user, the key files and that the key is in the host's authorized_keys (or loaded in ssh-agent)",
		"%s: %s@%s: %v", label, ep.User, ep.Addr(), err)
}

func keyFileType(t string) string {
	switch t {
	case ssh.KeyAlgoED25519:
		return "ed25519"
	case ssh.KeyAlgoRSA:
		return "rsa"
	default:
		return "ecdsa"
	}
}
