package inventory

import (
	"strings"
	"testing"
)

// TestParseBaseURL: base_url reaches the product (without a trailing slash); one with
// credentials, a query, or that is not http(s) is refused at its line, without echoing secrets.
func TestParseBaseURL(t *testing.T) {
	src := func(u string) []byte {
		return []byte("products:\n  - product: jira\n    base_url: " + u + "\n" +
			"    nodes:\n      - name: n1\n        url: http://h:1\n        restart: {exec: {command: x}}\n")
	}
	inv, err := Parse(src("https://jira.example.com/"), "reauth.yaml")
	if err != nil || inv.Products[0].BaseURL != "https://jira.example.com" {
		t.Fatalf("base_url: %v %+v", err, inv)
	}
	for _, bad := range []string{"https://u:hunter2@jira.example.com", "https://jira.example.com/?a=b", "ftp://jira.example.com", "jira.example.com"} {
		_, err := Parse(src(bad), "reauth.yaml")
		if err == nil || !strings.Contains(err.Error(), "3") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
