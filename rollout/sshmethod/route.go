package sshmethod

import (
	"fmt"
	"os"
	"strings"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/rollout/sshmethod/sshconfig"
)

// maxJumpDepth bounds how deep jump hosts' own ProxyJump lines may nest (a loop is refused).
const maxJumpDepth = 8

// LoadSSHConfig reads OpenSSH client config files (missing ones are skipped), with ~, %d and
// %u from getenv's HOME and USER.
func LoadSSHConfig(paths []string, getenv func(string) string) (*sshconfig.Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	host, _ := os.Hostname()
	o := sshconfig.Options{Home: reauth.ExpandHome("~", getenv), LocalUser: getenv("USER"), LocalHost: host}
	var expanded []string
	for _, p := range paths {
		expanded = append(expanded, reauth.ExpandHome(p, getenv))
	}
	return sshconfig.Load(expanded, o)
}

// WithSSHConfig resolves cfg.Host as ssh would: an alias of conf, whose HostName, User, Port,
// IdentityFile, IdentitiesOnly, UserKnownHostsFile, ConnectTimeout, ServerAliveInterval and
// ProxyJump fill what cfg leaves unset (cfg's own values win, as ssh's command line does).
// jump is the inventory's ProxyJump ("" = the config's). A directive reauth cannot follow is a
// usage error naming its file:line.
func WithSSHConfig(cfg Config, conf *sshconfig.Config, jump string) (Config, error) {
	pre := sshconfig.Preset{User: cfg.User, Port: cfg.Port, IdentityFiles: cfg.KeyFiles, ConnectTimeout: cfg.ConnectTimeout, ProxyJump: jump}
	if cfg.KnownHosts != "" {
		pre.KnownHosts = []string{cfg.KnownHosts}
	}
	h, err := conf.Resolve(cfg.Host, pre)
	if err != nil {
		return cfg, err
	}
	cfg.Alias, cfg.Host, cfg.User, cfg.Port = cfg.Host, h.HostName, h.User, h.Port
	cfg.KeyFiles, cfg.IdentitiesOnly = h.IdentityFiles, h.IdentitiesOnly
	if cfg.KnownHosts == "" {
		cfg.KnownHostsFiles = h.KnownHosts
	}
	cfg.ConnectTimeout = h.ConnectTimeout
	cfg.ServerAliveInterval, cfg.ServerAliveCountMax = h.ServerAliveInterval, h.ServerAliveCountMax
	cfg.Notes = append(cfg.Notes, notes(h)...)
	seen := map[string]bool{strings.ToLower(cfg.Alias): true}
	if cfg.Jumps, err = jumps(conf, h.ProxyJump, seen, 0, &cfg.Notes); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// jumps resolves a ProxyJump list. As with ssh, the first hop's own ProxyJump (from the config)
// is followed, since it is reached like any host; the later hops' are not (ssh -J overrides them).
func jumps(conf *sshconfig.Config, list []sshconfig.Jump, seen map[string]bool, depth int, acc *[]string) ([]Endpoint, error) {
	var out []Endpoint
	for i, j := range list {
		if depth > maxJumpDepth || seen[strings.ToLower(j.Host)] {
			return nil, reauth.Usage("check the ProxyJump lines of your ssh config: a jump host may not lead back to itself",
				"ssh: ProxyJump loops through %s", j.Host)
		}
		pre := sshconfig.Preset{User: j.User, Port: j.Port}
		if i > 0 {
			pre.ProxyJump = "none"
		}
		h, err := conf.Resolve(j.Host, pre)
		if err != nil {
			return nil, fmt.Errorf("jump host %s: %w", j.Host, err)
		}
		*acc = append(*acc, notes(h)...)
		if i == 0 && len(h.ProxyJump) > 0 {
			seen[strings.ToLower(j.Host)] = true
			before, err := jumps(conf, h.ProxyJump, seen, depth+1, acc)
			if err != nil {
				return nil, err
			}
			out = append(out, before...)
		}
		out = append(out, Endpoint{Name: j.Host, Host: h.HostName, Port: h.Port, User: h.User, KeyFiles: h.IdentityFiles,
			IdentitiesOnly: h.IdentitiesOnly, KnownHosts: h.KnownHosts})
	}
	return out, nil
}

// notes describes the directives reauth did not follow for one host.
func notes(h *sshconfig.Host) []string {
	var out []string
	for _, s := range h.Ignored {
		why := "not used by reauth's SSH client"
		if s.Keyword == "stricthostkeychecking" {
			why = "reauth accepts only host keys already in known_hosts"
		}
		out = append(out, fmt.Sprintf("ssh config %s: %s %s for %s: %s", s.Where, s.Keyword, strings.Join(s.Args, " "), h.Alias, why))
	}
	return out
}
