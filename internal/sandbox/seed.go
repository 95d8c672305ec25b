package sandbox

import (
	"context"
	"fmt"
	"math"
	"path/filepath"

	"golang.org/x/sync/errgroup"

	"github.com/reauth/reauth/atlassian"
)

// BrowserFile is where Up saves seeded user i's browser cookies.
func (c *Cluster) BrowserFile(i int) string {
	return filepath.Join(c.BrowsersDir(), UserName(i)+".cookies")
}

// loginAll logs every seeded user in through the login form, spread round-robin over the nodes,
// the first RememberFraction of them with remember-me ticked, and saves each browser.
func (c *Cluster) loginAll(ctx context.Context, p atlassian.Product, o Options) (int, error) {
	remember := int(math.Round(o.RememberFraction * float64(o.Users)))
	if o.RememberFraction < 0 {
		remember = 0
	}
	nodes := c.Nodes()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := 1; i <= o.Users; i++ {
		g.Go(func() error {
			b := NewBrowser()
			b.Product = p.ID
			url := nodes[(i-1)%len(nodes)].URL
			if err := b.Login(gctx, url, UserName(i), UserPassword, i <= remember); err != nil {
				return fmt.Errorf("seed login of %s: %w", UserName(i), err)
			}
			return b.Save(c.BrowserFile(i))
		})
	}
	return remember, g.Wait()
}
