package methods

import (
	"context"
	"errors"
	"io/fs"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/boundedfile"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/rollout/kube"
)

// kubeConnect connects to the cluster of product p's kubernetes block.
func kubeConnect(inv *inventory.Inventory, p *inventory.Product, getenv func(string) string) (*kube.Client, string, kube.Config, error) {
	k := p.Kubernetes
	cfg := kube.Config{Namespace: k.Namespace, StatefulSet: k.StatefulSet, Context: k.Context,
		Kubeconfig: inv.Resolve(reauth.ExpandHome(k.Kubeconfig, getenv)), Service: k.Service, URLTemplate: k.URLTemplate,
		SecretEnv: SecretEnv(inv)}
	if cfg.Kubeconfig != "" { // a FIFO or device is refused here, as a usage error
		if f, err := boundedfile.Open(cfg.Kubeconfig); err == nil {
			f.Close()
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", cfg, reauth.Usage("point kubernetes.kubeconfig at a kubeconfig file", "kubeconfig: %v", err)
		}
	}
	client, ns, err := kube.Connect(cfg)
	return client, ns, cfg, err
}

// Database is product p's database as database: {from: statefulset} says: the URL from its
// StatefulSet's env, the user and password from user_env/user_file and password_env/password_file
// when given, else from the Secret the env names. The notes say where it was read.
func Database(ctx context.Context, inv *inventory.Inventory, p *inventory.Product, getenv func(string) string) (reauth.Database, []string, error) {
	if p.Kubernetes == nil {
		return reauth.Database{}, nil, reauth.Usage("add kubernetes: {statefulset: …} to the product, or give database.jdbc_url",
			"product %s: database from: statefulset needs the product's kubernetes block", p.ID)
	}
	prod, err := Product(p)
	if err != nil {
		return reauth.Database{}, nil, err
	}
	var opts kube.DatabaseOptions
	for _, r := range []struct {
		ref inventory.SecretRef
		out *reauth.Secret
	}{{p.Database.UserRef, &opts.User}, {p.Database.Password, &opts.Password}} {
		if r.ref.IsZero() {
			continue
		}
		if *r.out, err = r.ref.Resolve(getenv); err != nil {
			return reauth.Database{}, nil, reauth.Usage("set the database's user_env/user_file and password_env/password_file", "%v", err)
		}
	}
	if p.Database.User != "" {
		opts.User = reauth.NewSecret(p.Database.User)
	}
	client, ns, cfg, err := kubeConnect(inv, p, getenv)
	if err != nil {
		return reauth.Database{}, nil, err
	}
	return kube.Database(ctx, client, ns, cfg.StatefulSet, prod, opts)
}
