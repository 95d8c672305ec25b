package sshmethod

import (
	"bytes"
	"errors"
	"net"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/boundedfile"
)

// maxKeyFile bounds a private key file: an RSA 16384-bit key in PEM is about 13 KiB.
const maxKeyFile = 1 << 20

// authMethods collects the agent's keys and ep's key files. The returned func closes the agent.
// With IdentitiesOnly (ssh_config), only the key files' keys are offered: the agent's keys among
// them (a passphrase-protected file whose .pub is in the agent), and the files themselves.
func authMethods(cfg Config, ep Endpoint) ([]ssh.AuthMethod, func(), error) {
	var signers []ssh.Signer
	closer := func() {}
	fail := func(err error) ([]ssh.AuthMethod, func(), error) {
		closer()
		return nil, func() {}, err
	}
	sock := cfg.Getenv("SSH_AUTH_SOCK")
	useAgent := sock != ""
	if cfg.Agent != nil {
		useAgent = *cfg.Agent
		if useAgent && sock == "" {
			return nil, closer, reauth.Refused("start ssh-agent and ssh-add the key, or set agent: false and key_file", "ssh: agent: true but SSH_AUTH_SOCK is not set")
		}
	}
	var agentKeys []ssh.Signer
	if useAgent {
		conn, err := net.Dial("unix", sock)
		if err != nil {
			return nil, closer, reauth.Refused("start ssh-agent, or set agent: false", "ssh: connect to ssh-agent at %s: %v", sock, err)
		}
		closer = func() { conn.Close() }
		if agentKeys, err = agent.NewClient(conn).Signers(); err != nil {
			return fail(reauth.Refused("check ssh-agent", "ssh: list agent keys: %v", err))
		}
	}
	files := ep.KeyFiles
	explicit := len(files) > 0
	if !explicit && !useAgent {
		files = []string{"~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"}
	}
	only := ep.IdentitiesOnly && explicit
	if !only {
		signers = append(signers, agentKeys...)
	}
	for _, f := range files {
		p := reauth.ExpandHome(f, cfg.Getenv)
		if only {
			signers = append(signers, agentKeysOf(agentKeys, p)...)
		}
		b, err := boundedfile.Read(p, maxKeyFile)
		if err != nil {
			if explicit {
				return fail(reauth.Refused("check key_file in the inventory (or IdentityFile in your ssh config)", "ssh: read key %s: %v", p, err))
			}
			continue
		}
		s, err := ssh.ParsePrivateKey(b)
		var pp *ssh.PassphraseMissingError
		if errors.As(err, &pp) {
			if only && len(agentKeysOf(agentKeys, p)) > 0 {
				continue // the agent holds it
			}
			return fail(reauth.Refused("load it into ssh-agent (ssh-add "+p+") and run again: reauth never asks for key passphrases", "ssh: key %s is passphrase-protected", p))
		}
		if err != nil {
			return fail(reauth.Refused("check key_file in the inventory (or IdentityFile in your ssh config)", "ssh: parse key %s: %v", p, err))
		}
		signers = append(signers, s)
	}
	if len(signers) == 0 {
		return fail(reauth.Refused("give key_file in the inventory, or load a key into ssh-agent", "ssh: no key to authenticate with"))
	}
	return []ssh.AuthMethod{ssh.PublicKeys(signers...)}, closer, nil
}

// agentKeysOf are the agent's keys matching key file p's public half (p.pub, as ssh reads it).
func agentKeysOf(agentKeys []ssh.Signer, p string) []ssh.Signer {
	b, err := boundedfile.Read(p+".pub", maxKeyFile)
	if err != nil {
		return nil
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		return nil
	}
	var out []ssh.Signer
	for _, s := range agentKeys {
		if bytes.Equal(s.PublicKey().Marshal(), pub.Marshal()) {
			out = append(out, s)
		}
	}
	return out
}
