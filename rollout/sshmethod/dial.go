package sshmethod

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/boundedfile"
)

// dial connects and authenticates, checking the host key against known_hosts.
func dial(ctx context.Context, cfg Config) (*ssh.Client, error) {
	addr := net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port))
	khPath := cfg.KnownHosts
	if khPath == "" {
		khPath = "~/.ssh/known_hosts"
	}
	khPath = reauth.ExpandHome(khPath, cfg.Getenv)
	// Opened once first: a FIFO or device here is refused instead of blocking knownhosts.New.
	if f, err := boundedfile.Open(khPath); err != nil {
		return nil, reauth.Refused(fmt.Sprintf("create it with the node's verified host key: ssh-keyscan -p %d %s >> %s (then compare the fingerprint with the server's)", cfg.Port, cfg.Host, khPath),
			"ssh %s: known_hosts file %s: %v", addr, khPath, err)
	} else {
		f.Close()
	}
	check, err := knownhosts.New(khPath)
	if err != nil {
		return nil, reauth.Refused("fix or regenerate the known_hosts file", "ssh %s: read known_hosts %s: %v", addr, khPath, err)
	}
	var offered ssh.PublicKey
	hostKeyCallback := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		offered = key
		return check(hostname, remote, key)
	}
	auths, closeAgent, err := authMethods(cfg)
	if err != nil {
		return nil, err
	}
	defer closeAgent()
	conf := &ssh.ClientConfig{
		User:              cfg.User,
		Auth:              auths,
		HostKeyCallback:   hostKeyCallback,
		HostKeyAlgorithms: knownAlgorithms(check, addr),
		Timeout:           cfg.ConnectTimeout,
	}
	d := net.Dialer{Timeout: cfg.ConnectTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, reauth.Refused("check the host, port and that sshd runs on the node", "ssh %s: connect: %v", addr, err)
	}
	// The handshake and authentication have the same deadline as the connect.
	_ = conn.SetDeadline(time.Now().Add(cfg.ConnectTimeout))
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, conf)
	if err != nil {
		conn.Close()
		return nil, handshakeError(err, addr, khPath, cfg, offered)
	}
	_ = conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

// knownAlgorithms lists the host key types known_hosts has for addr, so that the server is asked
// for a key we can check (else it may offer another type and look like a mismatch).
func knownAlgorithms(check ssh.HostKeyCallback, addr string) []string {
	tcp, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil
	}
	err = check(addr, tcp, probeKey{})
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

func handshakeError(err error, addr, khPath string, cfg Config, offered ssh.PublicKey) error {
	var ke *knownhosts.KeyError
	if errors.As(err, &ke) && offered != nil {
		fp := ssh.FingerprintSHA256(offered)
		if len(ke.Want) == 0 {
			return reauth.Refused(fmt.Sprintf("if %s is the node's real key (ask its admin, or run `ssh-keygen -lf /etc/ssh/ssh_host_%s_key.pub` on the node), add it:\n  ssh-keyscan -p %d -t %s %s >> %s",
				fp, keyFileType(offered.Type()), cfg.Port, offered.Type(), cfg.Host, khPath),
				"ssh %s: host key unknown: the server offered %s %s, which is not in %s", addr, offered.Type(), fp, khPath)
		}
		w := ke.Want[0]
		return reauth.Refused(fmt.Sprintf("someone may be intercepting the connection. If the node's key changed on purpose, remove the old entry (ssh-keygen -R '[%s]:%d' -f %s) and add the new one after checking it", cfg.Host, cfg.Port, khPath),
			"ssh %s: HOST KEY MISMATCH: the server offered %s %s but %s:%d expects %s", addr, offered.Type(), fp, w.Filename, w.Line, ssh.FingerprintSHA256(w.Key))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return reauth.Refused("check the network and the node's sshd", "ssh %s: handshake timed out after %v", addr, cfg.ConnectTimeout)
	}
	return reauth.Refused("check the user, the key files and that the key is in the node's authorized_keys (or loaded in ssh-agent)",
		"ssh %s@%s: %v", cfg.User, addr, err)
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

// maxKeyFile bounds a private key file: an RSA 16384-bit key in PEM is about 13 KiB.
const maxKeyFile = 1 << 20

// authMethods collects the agent's keys and the key files. The returned func closes the agent.
func authMethods(cfg Config) ([]ssh.AuthMethod, func(), error) {
	var signers []ssh.Signer
	closer := func() {}
	sock := cfg.Getenv("SSH_AUTH_SOCK")
	useAgent := sock != ""
	if cfg.Agent != nil {
		useAgent = *cfg.Agent
		if useAgent && sock == "" {
			return nil, closer, reauth.Refused("start ssh-agent and ssh-add the key, or set agent: false and key_file", "ssh: agent: true but SSH_AUTH_SOCK is not set")
		}
	}
	if useAgent {
		conn, err := net.Dial("unix", sock)
		if err != nil {
			return nil, closer, reauth.Refused("start ssh-agent, or set agent: false", "ssh: connect to ssh-agent at %s: %v", sock, err)
		}
		closer = func() { conn.Close() }
		ag, err := agent.NewClient(conn).Signers()
		if err != nil {
			closer()
			return nil, func() {}, reauth.Refused("check ssh-agent", "ssh: list agent keys: %v", err)
		}
		signers = append(signers, ag...)
	}
	files := cfg.KeyFiles
	explicit := len(files) > 0
	if !explicit && !useAgent {
		files = []string{"~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"}
	}
	for _, f := range files {
		p := reauth.ExpandHome(f, cfg.Getenv)
		b, err := boundedfile.Read(p, maxKeyFile)
		if err != nil {
			if explicit {
				closer()
				return nil, func() {}, reauth.Refused("check key_file in the inventory", "ssh: read key %s: %v", p, err)
			}
			continue
		}
		s, err := ssh.ParsePrivateKey(b)
		var pp *ssh.PassphraseMissingError
		if errors.As(err, &pp) {
			closer()
			return nil, func() {}, reauth.Refused("load it into ssh-agent (ssh-add "+p+") and run again: reauth never asks for key passphrases", "ssh: key %s is passphrase-protected", p)
		}
		if err != nil {
			closer()
			return nil, func() {}, reauth.Refused("check key_file in the inventory", "ssh: parse key %s: %v", p, err)
		}
		signers = append(signers, s)
	}
	if len(signers) == 0 {
		closer()
		return nil, func() {}, reauth.Refused("give key_file in the inventory, or load a key into ssh-agent", "ssh: no key to authenticate with")
	}
	return []ssh.AuthMethod{ssh.PublicKeys(signers...)}, closer, nil
}
