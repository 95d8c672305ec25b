package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
)

// cachedToken is the node's token for a cookie key: from its cache, else read through from the
// table (and then cached). A token the cache holds is never re-read: a delete in the table is
// unseen until the node restarts, as with the products' caches.
func (n *node) cachedToken(ctx context.Context, key string) (token, bool) {
	n.mu.Lock()
	t, found := n.tokens[key]
	n.mu.Unlock()
	if found {
		return t, true
	}
	t, found, err := n.m.lookupToken(ctx, n.db, n.eng, key)
	if err != nil {
		n.log.Printf("remember-me read-through: %v", err)
		return token{}, false
	}
	if found {
		n.mu.Lock()
		n.tokens[key] = t
		n.mu.Unlock()
	}
	return t, found
}

// saveTokenCache writes the cache to the node's directory (fault keep-token-cache only: a cache
// that outlives the process). The file holds token values: 0600, in the sandbox's own directory.
func (n *node) saveTokenCache() error {
	n.mu.Lock()
	b, err := json.Marshal(n.tokens)
	n.mu.Unlock()
	if err != nil {
		return err
	}
	return writeFile(tokenCacheFile(n.dir, n.name), b, 0o600)
}

// loadTokenCache adds the tokens a previous process of this node saved (fault keep-token-cache).
func (n *node) loadTokenCache(into map[string]token) (int, error) {
	b, err := os.ReadFile(tokenCacheFile(n.dir, n.name))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var saved map[string]token
	if err := json.Unmarshal(b, &saved); err != nil {
		return 0, err
	}
	k := 0
	for key, t := range saved {
		if _, ok := into[key]; !ok {
			into[key] = t
			k++
		}
	}
	return k, nil
}
