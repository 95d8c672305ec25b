package apimode

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/reauth/reauth"
)

// toLogin answers like an SSO gateway or an expired token: a 302 to the login page, which
// answers 200. Followed, the DELETE would look like a success.
func toLogin(w http.ResponseWriter) int {
	w.Header().Set("Location", "/login.jsp?os_destination=%2Fsecret-return")
	return http.StatusFound
}

// A redirect, or a success for a user that cannot exist, is refused before any change (exit 4),
// and says why without quoting the redirect's query.
func TestDetectRefusesRedirectsAndFalseSuccess(t *testing.T) {
	p := product(t, "jira")
	for _, tc := range []struct {
		name   string
		answer func(int64, string, http.ResponseWriter) int
		saying string
	}{
		{"probe redirected to a login page", func(_ int64, _ string, w http.ResponseWriter) int { return toLogin(w) },
			"redirected DELETE /rest/api/2/user/session/{username} to 127.0.0.1"},
		{"probe answered 200", func(int64, string, http.ResponseWriter) int { return http.StatusOK }, "user that cannot exist (expected 404"},
		{"probe answered 204", func(int64, string, http.ResponseWriter) int { return http.StatusNoContent }, "user that cannot exist (expected 404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeProduct{version: "9.12.0", answer: tc.answer}
			s, err := Detect(context.Background(), nil, p, serve(t, f, p), adminAuth)
			if reauth.CodeOf(err) != reauth.ExitRefused || s.Supported {
				t.Fatalf("Detect = %+v, %v (exit %d), want a refusal (exit 4)", s, err, reauth.CodeOf(err))
			}
			if !strings.Contains(err.Error(), tc.saying) || strings.Contains(err.Error(), "secret-return") {
				t.Fatalf("error %q does not say %q (or quotes the query)", err, tc.saying)
			}
		})
	}
	// The version resource redirected (an SSO gateway in front of every page) is refused too.
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login.jsp" {
			w.Write([]byte("<html>log in</html>"))
			return
		}
		http.Redirect(w, r, "/login.jsp", http.StatusFound)
	})
	url := serveHandler(t, mux)
	if _, err := Detect(context.Background(), nil, p, url, adminAuth); reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "redirected GET") {
		t.Fatalf("redirected version: %v", err)
	}
}

// A redirect mid-run stops it and nobody is counted as ended; an undocumented 200 is a failure,
// never "ended".
func TestInvalidateNeverCountsARedirectOrA200(t *testing.T) {
	p := product(t, "jira")
	f := &fakeProduct{version: "9.12.0", answer: func(_ int64, _ string, w http.ResponseWriter) int { return toLogin(w) }}
	res, err := Invalidate(context.Background(), Options{Product: p, BaseURL: serve(t, f, p), Auth: adminAuth, Users: users("u", 21)})
	if res.Ended != 0 || reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "not authenticated as an administrator") {
		t.Fatalf("redirected: ended %d, %v (exit %d); want 0 ended and a refusal", res.Ended, err, reauth.CodeOf(err))
	}
	if n := f.calls.Load(); n > 8 {
		t.Fatalf("%d calls after a redirect: the run must stop at once", n)
	}
	f = &fakeProduct{version: "9.12.0", answer: func(int64, string, http.ResponseWriter) int { return http.StatusOK }}
	res, err = Invalidate(context.Background(), Options{Product: p, BaseURL: serve(t, f, p), Auth: adminAuth, Users: users("u", 3)})
	if res.Ended != 0 || len(res.Failed) != 3 || err == nil || !strings.Contains(res.Failed[0].Error, "not counted as ended") {
		t.Fatalf("200: ended %d failed %v, %v; want 0 ended, 3 failed", res.Ended, res.Failed, err)
	}
	if res.Requests != 3 {
		t.Fatalf("%d requests: an undocumented 200 is not retried", res.Requests)
	}
}
