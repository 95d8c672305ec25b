package inventory

import (
	"strconv"
	"strings"
	"testing"

	"github.com/reauth/reauth"
)

// YAML syntax errors name the line to fix, not the line where the enclosing block began (the
// YAML library's choice), and a second document is refused instead of silently ignored.
func TestSyntaxErrorLines(t *testing.T) {
	node := "    nodes:\n      - name: n1\n        url: http://h:1\n        restart: {exec: {command: x}}\n"
	for _, tc := range []struct {
		name, src, want string
		line            int
	}{
		{"tab indentation", "products:\n  - product: jira\n\thome: /x\n", "tab character", 3},
		{"key indented one space less", "products:\n  - product: jira\n    home: /x\n   table: t\n" + node, "expected '-' indicator", 4},
		{"deep key indented one space less", "products:\n  - product: jira\n    home: /x\n    nodes:\n      - name: a\n        url: http://h:1\n       restart: {exec: {command: x}}\n", "expected '-' indicator", 7},
		{"unclosed quote", "products:\n  - product: jira\n    home: \"/x\n" + node, "end of stream", 3},
		{"unclosed flow mapping", "products:\n  - product: jira\n    home: /x\n    drain: {before: a, after: b\n" + node, "expected ',' or '}'", 4},
		{"unclosed flow sequence", "defaults: {}\nproducts: [a, b\nx: 1\n", "expected ',' or ']'", 2},
		{"a multi-line string before the error", "products:\n  - product: jira\n    home: \"/x\n      /y\"\n    table: t\n   install: /z\n", "expected '-' indicator", 6},
		{"second document", "products:\n  - product: jira\n    home: /x\n" + node + "---\nproducts:\n  - product: confluence\n", "second YAML document", 9},
		{"broken second document", "products:\n  - product: jira\n    home: /x\n" + node + "---\nproducts: [\n", "YAML syntax", 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src), "reauth.yaml")
			if reauth.CodeOf(err) != reauth.ExitUsage {
				t.Fatalf("Parse = %v (exit %d), want exit 2", err, reauth.CodeOf(err))
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "reauth.yaml:"+strconv.Itoa(tc.line)+":") {
				t.Fatalf("error %q: want line %d and %q", err, tc.line, tc.want)
			}
		})
	}
	// A document marker with nothing after it is harmless.
	if _, err := Parse([]byte("products:\n  - product: jira\n    home: /x\n"+node+"---\n"), "reauth.yaml"); err != nil {
		t.Fatalf("trailing ---: %v", err)
	}
}
