package apimode

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Once the breaker opens, the counts add up: ended, unknown (404), failed and not done cover
// every user once, the error says all four, and the users whose calls the breaker counted (the
// one that tripped it first) are failed, not "not done".
func TestBreakerCountsAddUp(t *testing.T) {
	p := product(t, "jira")
	f := &fakeProduct{version: "9.12.0", answer: func(n int64, user string, _ http.ResponseWriter) int {
		switch {
		case strings.HasPrefix(user, "ghost"):
			return http.StatusNotFound
		case n > 12:
			return http.StatusInternalServerError
		}
		return 0
	}}
	url := serve(t, f, p)
	list := append([]string{"ghost1", "ghost2"}, users("u", 100)...)
	res, err := Invalidate(context.Background(), Options{Product: p, BaseURL: url, Auth: adminAuth, Users: list,
		Concurrency: 3, Backoff: time.Millisecond, Breaker: BreakerOptions{Consecutive: 5}})
	if err == nil || !strings.Contains(err.Error(), "consecutive failed calls (retries included)") {
		t.Fatalf("want a stop by the breaker, got %v", err)
	}
	if sum := res.Ended + len(res.NotFound) + len(res.Failed) + len(res.NotDone); sum != res.Users || res.Users != len(list) {
		t.Fatalf("ended %d + unknown %d + failed %d + not done %d = %d, want %d users",
			res.Ended, len(res.NotFound), len(res.Failed), len(res.NotDone), sum, len(list))
	}
	want := fmt.Sprintf("%d of %d user(s) ended, %d unknown to Jira (404), %d failed, %d not done",
		res.Ended, res.Users, len(res.NotFound), len(res.Failed), len(res.NotDone))
	if !strings.Contains(err.Error(), want) || len(res.NotFound) != 2 {
		t.Fatalf("error %q does not say %q (2 unknown)", err, want)
	}
	m := regexp.MustCompile(`for (\S+)\); `).FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("the error names no user whose call tripped the breaker: %v", err)
	}
	var tripper bool
	for _, fl := range res.Failed {
		tripper = tripper || fl.User == m[1]
	}
	if !tripper {
		t.Fatalf("%s tripped the breaker but is not among the failed %v (not done: %d)", m[1], res.Failed, len(res.NotDone))
	}
}
