package atlassian

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// This file is a test-only template renderer for the real templates under realcases/configs:
// Jinja2 (.j2: {{ expr }}, {% if/elif/else/endif %}, {% for %}, {% set %}, {# #}) and Ruby-style
// ERB/EPP (<%= expr %>, <% if cond { %> … <% } else { %> … <% } %>, <%# %>). It handles exactly
// the constructs those files use, and nothing clever: an expression or condition is looked up by
// its literal text in the values, with Jinja's default('x'), comment('xml') and quote filters
// applied when the text itself is not given. An unknown expression fails the test, so the
// values always cover what the template really asks for.

// vals maps an expression or condition's literal text to a string, a bool (conditions), or a
// []vals (the iterations of a for loop, each adding its own names).
type vals map[string]any

type tmplToken struct {
	kind byte // 't' text, 'e' expression, 's' statement
	text string
}

var (
	jinjaTok = regexp.MustCompile(`(?s)\{\{-?(.*?)-?\}\}|\{%-?(.*?)-?%\}|\{#.*?#\}`)
	rubyTok  = regexp.MustCompile(`(?s)<%=-?(.*?)-?%>|<%#.*?%>|<%-?(.*?)-?%>`)
)

func tokenize(src string, re *regexp.Regexp) []tmplToken {
	var out []tmplToken
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(src, -1) {
		out = append(out, tmplToken{'t', src[last:m[0]]})
		last = m[1]
		switch {
		case m[2] >= 0:
			out = append(out, tmplToken{'e', strings.TrimSpace(src[m[2]:m[3]])})
		case m[4] >= 0:
			out = append(out, tmplToken{'s', strings.TrimSpace(src[m[4]:m[5]])})
		}
	}
	return append(out, tmplToken{'t', src[last:]})
}

// renderTemplate renders src; ruby selects ERB/EPP syntax.
func renderTemplate(t *testing.T, src string, ruby bool, v vals) string {
	t.Helper()
	re := jinjaTok
	if ruby {
		re = rubyTok
	}
	toks := tokenize(src, re)
	var b strings.Builder
	pos := render(t, toks, 0, []vals{v}, true, &b)
	if pos != len(toks) {
		t.Fatalf("template: unexpected %q at token %d", toks[pos].text, pos)
	}
	return b.String()
}

// render writes tokens from pos until the end of the block (endif/else/elif/endfor/'}') and
// returns the position of that closing token (unconsumed).
func render(t *testing.T, toks []tmplToken, pos int, env []vals, on bool, b *strings.Builder) int {
	t.Helper()
	for pos < len(toks) {
		tok := toks[pos]
		switch tok.kind {
		case 't':
			if on {
				b.WriteString(tok.text)
			}
			pos++
		case 'e':
			if on {
				b.WriteString(evalExpr(t, tok.text, env))
			}
			pos++
		case 's':
			word, rest, _ := strings.Cut(tok.text, " ")
			switch {
			case word == "endif" || word == "else" || word == "elif" || word == "endfor" || strings.HasPrefix(tok.text, "}"):
				return pos
			case word == "set":
				pos++
			case word == "if":
				pos = renderIf(t, toks, pos, env, on, b)
			case word == "for":
				pos = renderFor(t, toks, pos, rest, env, on, b)
			default:
				t.Fatalf("template: unsupported statement %q", tok.text)
			}
		}
	}
	return pos
}

func renderIf(t *testing.T, toks []tmplToken, pos int, env []vals, on bool, b *strings.Builder) int {
	t.Helper()
	taken := false
	cond := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(toks[pos].text, "if "), "{"))
	for {
		take := on && !taken && (cond == "" || evalCond(t, cond, env))
		pos = render(t, toks, pos+1, env, take, b)
		taken = taken || take
		if pos >= len(toks) {
			t.Fatalf("template: if %q not closed", cond)
		}
		end := toks[pos].text
		switch {
		case end == "endif" || end == "}":
			return pos + 1
		case end == "else" || strings.HasPrefix(end, "} else"):
			cond = ""
		case strings.HasPrefix(end, "elif "):
			cond = strings.TrimPrefix(end, "elif ")
		default:
			t.Fatalf("template: unexpected %q in if", end)
		}
		if taken {
			cond = "__never__"
		}
	}
}

func renderFor(t *testing.T, toks []tmplToken, pos int, header string, env []vals, on bool, b *strings.Builder) int {
	t.Helper()
	_, expr, ok := strings.Cut(header, " in ")
	if !ok {
		t.Fatalf("template: for %q", header)
	}
	var iters []vals
	if on {
		v, found := lookup(env, strings.TrimSpace(expr))
		if !found {
			t.Fatalf("template: no values for loop %q", expr)
		}
		iters = v.([]vals)
	}
	end := render(t, toks, pos+1, env, false, &strings.Builder{}) // find the matching endfor
	for _, it := range iters {
		render(t, toks, pos+1, append(append([]vals{}, env...), it), true, b)
	}
	if end >= len(toks) || toks[end].text != "endfor" {
		t.Fatalf("template: for %q not closed", header)
	}
	return end + 1
}

func lookup(env []vals, key string) (any, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := env[i][key]; ok {
			return v, true
		}
	}
	return nil, false
}

func evalCond(t *testing.T, cond string, env []vals) bool {
	t.Helper()
	if cond == "__never__" {
		return false
	}
	v, ok := lookup(env, cond)
	if !ok {
		t.Fatalf("template: no value for condition %q", cond)
	}
	bv, ok := v.(bool)
	if !ok {
		t.Fatalf("template: condition %q is not a bool", cond)
	}
	return bv
}

var quoted = regexp.MustCompile(`^'([^']*)'$|^"([^"]*)"$`)

func evalExpr(t *testing.T, expr string, env []vals) string {
	t.Helper()
	if v, ok := lookup(env, expr); ok {
		return v.(string)
	}
	parts := strings.Split(expr, "|")
	base := strings.TrimSpace(parts[0])
	v, found := lookup(env, base)
	var s string
	if found {
		s = v.(string)
	}
	for _, f := range parts[1:] {
		f = strings.TrimSpace(f)
		switch {
		case strings.HasPrefix(f, "default(") && strings.HasSuffix(f, ")"):
			if !found {
				arg := strings.TrimSpace(f[len("default(") : len(f)-1])
				if m := quoted.FindStringSubmatch(arg); m != nil {
					s, found = m[1]+m[2], true
				} else if dv, ok := lookup(env, arg); ok {
					s, found = dv.(string), true
				} else {
					t.Fatalf("template: default(%s) in %q needs a value for %q", arg, expr, arg)
				}
			}
		case f == "comment('xml')":
			s = "<!-- " + s + " -->"
		case f == "int" || strings.HasPrefix(f, "int *"):
			n, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("template: int of %q in %q", s, expr)
			}
			if _, mul, ok := strings.Cut(f, "*"); ok {
				m, _ := strconv.Atoi(strings.TrimSpace(mul))
				n *= m
			}
			s = strconv.Itoa(n)
		case f == "quote":
			s = `"` + s + `"`
		default:
			t.Fatalf("template: unsupported filter %q in %q", f, expr)
		}
	}
	if !found {
		t.Fatalf("template: no value for %q", expr)
	}
	return s
}

func TestRenderTemplate(t *testing.T) {
	src := "a={{ x }} b={{ y | default('dflt') }}{# c #}\n{% if on %}ON{% elif other %}OTHER{% else %}OFF{% endif %}" +
		"{% for i in items %}[{{ i }}]{% endfor %}"
	got := renderTemplate(t, src, false, vals{"x": "1", "on": false, "other": true, "items": []vals{{"i": "p"}, {"i": "q"}}})
	if want := "a=1 b=dflt\nOTHER[p][q]"; got != want {
		t.Errorf("jinja: %q, want %q", got, want)
	}
	rsrc := "<%# c -%>x=<%= $x %><% if $a { -%>A<%- } else { -%>B<%- } -%>"
	if got := renderTemplate(t, rsrc, true, vals{"$x": "1", "$a": false}); got != "x=1B" {
		t.Errorf("epp: %q", got)
	}
}
