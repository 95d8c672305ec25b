package report

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/russross/blackfriday/v2"
)

// Hostile text from outside reauth: a user name from the token table, node names from the
// inventory or a StatefulSet, and what a node's /status answered.
const (
	hostileLink   = "[x](javascript:alert(1))"
	hostileName   = "*n1*_|" + hostileLink + "<b>bold</b>`tick` https://evil.example/login"
	hostileStatus = "\x1b]0;pwned\x07RUNNING\u202e\x1b[2J"
	hostileLead   = "# 1. - heading?"
)

// hostileRun is a run whose node names, user names and node answers are all hostile.
func hostileRun(t *testing.T) *Report {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	f := newFakeRun(t, path, "run-h")
	f.start(false)
	nodes := []string{hostileName, hostileLead}
	for _, n := range nodes {
		f.at(10, "jira", "node", "restarting", map[string]any{"node": n, "method": "ssh"})
		f.at(300, "jira", "node", "down", map[string]any{"node": n, "state": hostileStatus})
		f.at(300, "jira", "node", "stable", map[string]any{"node": n, "state": hostileStatus})
		f.at(10, "jira", "node", "restarted", map[string]any{"node": n, "state": hostileStatus})
		f.at(5, "jira", "restart", "restarted", map[string]any{"node": n, "went_down": true})
	}
	f.verify(false)
	f.at(1, "jira", "proof", "ok", map[string]any{"proof": map[string]any{"level": "tokens-only", "cookies_replayed": 1,
		"sources": map[string]int{"minted": 1},
		"minted": map[string]any{"user": hostileLink + "\x1b[31m", "row_id": -1234567890, "accepted_before": nodes,
			"rejected_after": nodes, "removed": true, "note": hostileStatus},
		"nodes": []map[string]any{{"node": hostileName, "accepted_before": 1, "rejected_after": 1,
			"restart": map[string]any{"evidence": "answered " + hostileStatus}}},
		"not_proven": []string{"node said " + hostileLink}, "issued_before": map[string]any{"by": "created"}}})
	f.end(0, "", false, 0)
	r, err := Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Neither file carries a control character a node or a user name sent, and the Markdown renders
// every hostile value as the text it is: no link, no emphasis, no HTML, no split cell, no
// heading, on the "Minted proof token" line as everywhere else.
func TestHostileTextInReports(t *testing.T) {
	html, md := render(t, hostileRun(t))
	for name, out := range map[string]string{"html": html, "md": md} {
		if i := strings.IndexAny(out, "\x1b\x07\u202e"); i >= 0 {
			t.Errorf("%s: raw control character at %d: %q", name, i, out[max(0, i-40):min(len(out), i+40)])
		}
		if want := map[string]string{"html": `\x1b]0;pwned\x07RUNNING\u202e`, "md": `\\x1b\]0;pwned\\x07RUNNING\\u202e`}[name]; !strings.Contains(out, want) {
			t.Errorf("%s: the node's answer is not shown escaped", name)
		}
	}
	if strings.Contains(html, "<b>bold") || strings.Contains(html, "href=") {
		t.Errorf("html: a hostile value became markup")
	}
	minted := regexp.MustCompile(`(?m)^Minted proof token: .*$`).FindString(md)
	if !strings.Contains(minted, `\*n1\*\_\|\[x\](javascript:alert(1))&lt;b&gt;bold&lt;/b&gt;\`+"`"+`tick\`+"`"+` https\://evil.example/login`) ||
		!strings.Contains(minted, `login, # 1. - heading?;`) || !strings.Contains(minted, `one row for **\[x\](javascript:alert(1))\\x1b\[31m**`) {
		t.Errorf("minted proof line is not escaped:\n%s", minted)
	}
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "|") && strings.Contains(line, "heading?") && strings.Count(line, "|")-strings.Count(line, `\|`) < 3 {
			t.Errorf("table line lost its cells: %s", line)
		}
	}
	// A real Markdown renderer (tables, autolinks, strikethrough) finds no link, emphasis or
	// HTML from the values: the template's own bold is all there is.
	page := string(blackfriday.Run([]byte(md)))
	for _, bad := range []string{"<a ", "<em>", "<del>", "<b>", "<h1>1", "<h2>1", "<ol>", "<code>tick"} {
		if strings.Contains(page, bad) {
			i := strings.Index(page, bad)
			t.Errorf("rendered Markdown has %q: %s", bad, page[max(0, i-80):min(len(page), i+120)])
		}
	}
	if !strings.Contains(page, "[x](javascript:alert(1))") || !strings.Contains(page, "*n1*_") || !strings.Contains(page, "&lt;b&gt;bold") {
		t.Errorf("rendered Markdown does not show the hostile name as text:\n%s", head(page, "Minted proof token", 600))
	}
	if strings.Contains(page, "<h1>") && strings.Count(page, "<h1>") != 1 {
		t.Errorf("a value made a heading")
	}
}

// mdCell and mdCode on their own: what each Markdown construct becomes.
func TestMarkdownEscaping(t *testing.T) {
	for _, tc := range []struct{ in, cell, code string }{
		{"plain text, jira-0: ok", "plain text, jira-0: ok", "`plain text, jira-0: ok`"},
		{"[x](javascript:alert(1))", `\[x\](javascript:alert(1))`, "`[x](javascript:alert(1))`"},
		{"*a* _b_ ~c~ `d` \\e", "\\*a\\* \\_b\\_ \\~c\\~ \\`d\\` \\\\e", "``*a* _b_ ~c~ `d` \\e``"},
		{"a|b <i>&amp;", `a\|b &lt;i&gt;&amp;amp;`, "`a\\|b <i>&amp;`"},
		{"- item", `\- item`, "`- item`"},
		{"12. item", `\12. item`, "`12. item`"},
		{"  x", "&#32;&#32;x", "`  x`"},
		{"see https://x.example", `see https\://x.example`, "`see https://x.example`"},
		{"line\nbreak\x1b[2J", `line break\\x1b\[2J`, "`line break\\x1b[2J`"},
		{"`tick`", "\\`tick\\`", "`` `tick` ``"},
	} {
		if got := mdCell(tc.in); got != tc.cell {
			t.Errorf("mdCell(%q) = %q, want %q", tc.in, got, tc.cell)
		}
		if got := mdCode(tc.in); got != tc.code {
			t.Errorf("mdCode(%q) = %q, want %q", tc.in, got, tc.code)
		}
	}
}
