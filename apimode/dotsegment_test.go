package apimode

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// A user named "." or ".." is never put in the path: escaping leaves it as it is and a server
// would resolve it to another resource (DELETE /rest/api/2/user). Nothing is sent for it, it is
// reported as failed, and the other users are still ended.
func TestInvalidateNeverSendsDotSegments(t *testing.T) {
	p := product(t, "jira")
	f := &fakeProduct{version: "9.12.0"}
	var mu sync.Mutex
	var paths []string
	inner := f.handler(p)
	url := serveHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.EscapedPath())
		mu.Unlock()
		inner.ServeHTTP(w, r)
	}))
	res, err := Invalidate(context.Background(), Options{Product: p, BaseURL: url, Auth: adminAuth, Users: []string{"..", "ann", ".", "a/..", "%2E%2E"}})
	if err == nil || res.Ended != 3 || len(res.Failed) != 2 {
		t.Fatalf("ended %d failed %+v, %v; want ann, a/.. and %%2E%%2E ended, . and .. failed", res.Ended, res.Failed, err)
	}
	for _, fl := range res.Failed {
		if fl.User != "." && fl.User != ".." || !strings.Contains(fl.Error, "rolling restart") {
			t.Errorf("failure %+v", fl)
		}
	}
	for _, p := range paths {
		if strings.HasSuffix(p, "/..") || strings.HasSuffix(p, "/.") || strings.Contains(p, "/../") {
			t.Errorf("a dot segment was sent: %s", p)
		}
	}
	if len(paths) != 3 {
		t.Errorf("%d requests, want 3: %v", len(paths), paths)
	}
}
