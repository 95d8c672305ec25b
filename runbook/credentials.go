package runbook

import (
	"context"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/inventory"
)

// ProductDatabase is the database of an inventory's product, as a run finds it (its home
// directory's config, or the inventory's database block), without its password resolved:
// what read-only verbs such as `reauth credentials` connect to.
func ProductDatabase(ctx context.Context, inv *inventory.Inventory, ip *inventory.Product, getenv func(string) string) (reauth.Database, error) {
	return databaseOf(ctx, inv, ip, getenv)
}
