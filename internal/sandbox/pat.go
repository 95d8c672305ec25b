package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reauth/reauth/atlassian"
)

// FaultPATCache: the node remembers every token it accepted (a PAT, a Bitbucket HTTP token) and
// keeps accepting it after its row is deleted, across its own restarts too: the pessimistic
// reading of Bitbucket's caches (UNCONFIRMED), which a revocation's proof must catch.
const FaultPATCache Fault = "pat-cache"

func patCacheFile(dir, name string) string {
	return filepath.Join(nodeDir(dir, name), "pat-cache.json")
}

// bearerUser authenticates "Authorization: Bearer <token>" as the products do: the token names
// its row (base64 of "<TOKEN_ID>:<secret>", Bitbucket with "BBDC-" in front), the row is read
// from the shared table on EVERY request (no cache: a deleted or expired row is rejected at once
// on every node), and the secret is checked against the row's {PKCS5S2} hash. "" is anonymous,
// as Jira proceeds with an unknown bearer token.
func (n *node) bearerUser(r *http.Request) string {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		return ""
	}
	cacheKey := sha256.Sum256([]byte(raw))
	key := hex.EncodeToString(cacheKey[:])
	caching := readFault(n.dir, n.name) == FaultPATCache
	if caching {
		n.mu.Lock()
		user, hit := n.patCache[key]
		n.mu.Unlock()
		if hit {
			return user
		}
	}
	user, err := n.checkToken(r.Context(), raw)
	if err != nil {
		n.log.Printf("bearer token: %v", err)
		return ""
	}
	if user != "" && caching {
		n.mu.Lock()
		n.patCache[key] = user
		n.mu.Unlock()
		if err := n.savePATCache(); err != nil {
			n.log.Printf("pat-cache: %v", err)
		}
	}
	return user
}

// checkToken finds the token's row and checks it: the owner's login name, "" when rejected.
func (n *node) checkToken(ctx context.Context, raw string) (string, error) {
	bitbucket := n.p.ID == atlassian.Bitbucket
	if bitbucket {
		var ok bool
		if raw, ok = strings.CutPrefix(raw, "BBDC-"); !ok {
			return "", nil
		}
	}
	dec, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return "", nil
	}
	tokenID, secret, ok := strings.Cut(string(dec), ":")
	if !ok || tokenID == "" {
		return "", nil
	}
	var hash string
	var owner, created, expires, days any
	if bitbucket {
		err = n.db.QueryRowContext(ctx, rebind(n.eng, aoDDL(n.eng, "SELECT {HASHED_TOKEN}, {USER_ID}, {CREATED_DATE}, {EXPIRY_DAYS} FROM {AO_E5A814_ACCESS_TOKEN} WHERE {TOKEN_ID} = ?")),
			tokenID).Scan(&hash, &owner, &created, &days)
	} else {
		err = n.db.QueryRowContext(ctx, rebind(n.eng, aoDDL(n.eng, "SELECT {HASHED_TOKEN}, {USER_KEY}, {EXPIRING_AT} FROM {AO_81F455_PERSONAL_TOKEN} WHERE {TOKEN_ID} = ?")),
			tokenID).Scan(&hash, &owner, &expires)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return "", err
		}
		return "", nil // no row (or no table): anonymous
	}
	now := time.Now()
	if bitbucket {
		if d := asInt(days); d > 0 {
			if c, ok := asTime(created); ok && !c.AddDate(0, 0, int(d)).After(now) {
				return "", nil
			}
		}
	} else if e, ok := asTime(expires); !ok || !e.After(now) {
		return "", nil
	}
	if !atlassian.CheckPKCS5S2(hash, secret) {
		return "", nil
	}
	return n.ownerName(ctx, asText(owner))
}

// ownerName maps a credential row's owner (user key or id) to a login name through the
// product's own user table (Jira app_user, Confluence user_mapping, Bitbucket stash_user).
func (n *node) ownerName(ctx context.Context, ref string) (string, error) {
	c, _ := atlassian.CredentialsOf(n.p.ID)
	m := c.Owner
	if m.Table == "" {
		return ref, nil
	}
	var name string
	err := n.db.QueryRowContext(ctx, rebind(n.eng, "SELECT "+m.Name+" FROM "+m.Table+" WHERE "+m.Key+" = ?"), ref).Scan(&name)
	if err != nil {
		return "", nil
	}
	return name, nil
}

// handleTokens is GET /rest/pat/latest/tokens (Bitbucket: /rest/access-tokens/latest/users/{user}):
// it demands authentication (401 anonymous: an endpoint anonymous users may read proves
// nothing), and answers the caller's own token names.
func (n *node) handleTokens(w http.ResponseWriter, r *http.Request) {
	user := n.authenticate(w, r)
	if user == "" {
		writeJSONBody(w, http.StatusUnauthorized, map[string]any{"message": "Client must be authenticated to access this resource."})
		return
	}
	if slug := r.PathValue("user"); slug != "" && !strings.EqualFold(slug, user) {
		writeJSONBody(w, http.StatusForbidden, map[string]any{"message": "You are not permitted to access this resource"})
		return
	}
	writeJSONBody(w, http.StatusOK, map[string]any{"user": user, "values": []any{}})
}

func (n *node) savePATCache() error {
	n.mu.Lock()
	b, err := json.Marshal(n.patCache)
	n.mu.Unlock()
	if err != nil {
		return err
	}
	return writeFile(patCacheFile(n.dir, n.name), b, 0o600)
}

// loadPATCache reads what a previous process of this node accepted (fault pat-cache).
func (n *node) loadPATCache() (map[string]string, error) {
	out := map[string]string{}
	b, err := os.ReadFile(patCacheFile(n.dir, n.name))
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	return out, json.Unmarshal(b, &out)
}

func asText(v any) string {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case string:
		return x
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}

func asInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case float64:
		return int64(x)
	case []byte, string:
		var n int64
		_ = json.Unmarshal([]byte(asText(x)), &n)
		return n
	}
	return 0
}

func asTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case []byte, string:
		for _, l := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999", time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
			if t, err := time.Parse(l, asText(x)); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}
