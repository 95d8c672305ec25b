// Package methods turns an inventory product into a rollout plan: one restarter per node (exec,
// ssh) or per pod (kubernetes), and the rollout options from the inventory's timeouts. It is the
// one place that knows every restart method, so that rollout itself depends on none of them.
package methods

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/rollout"
	"github.com/reauth/reauth/rollout/execmethod"
	"github.com/reauth/reauth/rollout/kube"
	"github.com/reauth/reauth/rollout/sshmethod"
	"github.com/reauth/reauth/rollout/sshmethod/sshconfig"
)

// Product returns the catalog entry for p with the inventory's overrides (status_path).
func Product(p *inventory.Product) (atlassian.Product, error) {
	prod, err := atlassian.Lookup(string(p.ID))
	if err != nil {
		return prod, reauth.Usage("", "%v", err)
	}
	if p.StatusPath != "" {
		prod.Ready.Path = p.StatusPath
	}
	if p.WhoAmIPath != "" {
		prod.Login.WhoAmIPath = p.WhoAmIPath
	}
	return prod, nil
}

// Plan builds the rollout plan of product p. close releases the SSH connections; call it when done.
func Plan(ctx context.Context, inv *inventory.Inventory, p *inventory.Product, getenv func(string) string) (plan rollout.Plan, close func(), err error) {
	close = func() {}
	prod, err := Product(p)
	if err != nil {
		return plan, close, err
	}
	plan = rollout.Plan{Product: prod, Drain: rollout.Drain{Before: p.Drain.Before, After: p.Drain.After, AfterOnFailure: p.Drain.AfterOnFailure},
		SecretEnv: SecretEnv(inv)}
	if p.Kubernetes != nil {
		client, ns, cfg, err := kubeConnect(inv, p, getenv)
		if err != nil {
			return plan, close, err
		}
		found, err := kube.Find(ctx, client, ns, cfg, prod)
		if err != nil {
			return plan, close, err
		}
		plan.Nodes, plan.Warnings = found.Nodes, append(client.Warnings(), found.Notes...)
		return plan, close, nil
	}
	var sshs []*sshmethod.Restarter
	var sshConf *sshconfig.Config // read at the first ssh node
	close = func() {
		for _, s := range sshs {
			s.Close()
		}
	}
	for _, n := range p.Nodes {
		install := n.Install
		if install == "" {
			install = p.Install
		}
		node := rollout.Node{Name: n.Name, URL: n.URL, Install: install}
		switch {
		case n.Restart.Exec != nil:
			e := n.Restart.Exec
			node.Restarter = &execmethod.Restarter{Command: e.Command, StopCmd: e.Stop, StartCmd: e.Start, Timeout: e.Timeout,
				Env: execmethod.Env{Drop: plan.SecretEnv, Set: []string{"REAUTH_NODE=" + n.Name, "REAUTH_NODE_URL=" + n.URL}}}
		case n.Restart.SSH != nil:
			s := n.Restart.SSH
			cfg := sshmethod.Config{Host: s.Host, Port: s.Port, User: s.User, Command: s.Command, StopCmd: s.Stop, StartCmd: s.Start,
				KnownHosts: inv.Resolve(reauth.ExpandHome(s.KnownHosts, getenv)), Agent: s.Agent, TTY: s.TTY,
				ConnectTimeout: s.ConnectTimeout, Timeout: s.Timeout, Getenv: getenv}
			if s.KeyFile != "" {
				cfg.KeyFiles = []string{inv.Resolve(reauth.ExpandHome(s.KeyFile, getenv))}
			}
			if sshConf == nil {
				if sshConf, err = loadSSHConfig(inv, getenv); err != nil {
					return plan, close, err
				}
			}
			if cfg, err = sshmethod.WithSSHConfig(cfg, sshConf, s.ProxyJump); err != nil {
				return plan, close, fmt.Errorf("node %s: %w", n.Name, err)
			}
			r := sshmethod.New(cfg)
			sshs = append(sshs, r)
			node.Restarter = r
		default:
			return plan, close, reauth.Usage("give the node a restart method", "node %s has no restart method", n.Name)
		}
		plan.Nodes = append(plan.Nodes, node)
	}
	return plan, close, nil
}

// loadSSHConfig reads the OpenSSH client config files of defaults.ssh_config (default
// ~/.ssh/config; relative paths are relative to the inventory; "none" reads none).
func loadSSHConfig(inv *inventory.Inventory, getenv func(string) string) (*sshconfig.Config, error) {
	files := append([]string(nil), inv.Defaults.SSHConfig...)
	if inv.Defaults.SSHConfig == nil {
		files = []string{"~/.ssh/config"}
	}
	if len(files) == 1 && strings.EqualFold(files[0], "none") {
		files = nil
	}
	for i, f := range files {
		files[i] = inv.Resolve(reauth.ExpandHome(f, getenv))
	}
	return sshmethod.LoadSSHConfig(files, getenv)
}

// SecretEnv names every environment variable reauth may read a secret from: REAUTH_DB_PASSWORD,
// the official images' JDBC password variables, and each *_env reference of the inventory (every
// product's: a hook of one product has no business with another's secrets either).
func SecretEnv(inv *inventory.Inventory) []string {
	return append(atlassian.PasswordEnv(), inv.SecretEnv()...)
}

// Options are the rollout options from the inventory: the product's start_timeout, else the
// defaults'; defaults.poll_interval caps the probe backoff; the product's restart.strategy,
// max_unavailable and min_serving.
func Options(inv *inventory.Inventory, p *inventory.Product) rollout.Options {
	o := rollout.Options{StartTimeout: inv.Defaults.StartTimeout, MaxPoll: inv.Defaults.PollInterval, StableWindow: inv.Defaults.StableWindow,
		Strategy: p.RestartStrategy, MaxUnavailable: p.MaxUnavailable, MinServing: p.MinServing}
	if p.StartTimeout > 0 {
		o.StartTimeout = p.StartTimeout
	}
	return o
}

// JournalPath is the default journal of product p: beside the inventory file.
func JournalPath(inv *inventory.Inventory, p *inventory.Product) string {
	dir := inv.Dir
	if dir == "" {
		dir = "."
	}
	return filepath.Join(dir, ".reauth-journal-"+string(p.ID)+".json")
}
