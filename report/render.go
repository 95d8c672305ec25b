package report

import (
	_ "embed"
	"fmt"
	htmltemplate "html/template"
	"io"
	"strings"
	"text/template"
	"time"
)

//go:embed report.html.tmpl
var htmlSource string

//go:embed report.md.tmpl
var markdownSource string

// Title is the page's heading: the products the run forced a re-login on.
func (r *Report) Title() string {
	names := make([]string, 0, len(r.Products))
	for _, p := range r.Products {
		names = append(names, p.Name)
	}
	if len(names) == 0 {
		return "Forced re-login"
	}
	return "Forced re-login: " + strings.Join(names, ", ")
}

// Duration is how long the run took.
func (r *Report) Duration() time.Duration { return r.Ended.Sub(r.Started) }

func funcs() map[string]any {
	return map[string]any{
		"add":      func(a, b float64) float64 { return round1(a + b) },
		"sub":      func(a, b float64) float64 { return round1(a - b) },
		"date":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
		"clock":    clock,
		"dur":      dur,
		"exitName": exitName,
		"join":     strings.Join,
		"count": func(n int64) string {
			if n < 0 {
				return "-"
			}
			return fmt.Sprint(n)
		},
		"verdict": func(v string) string {
			if v == "" {
				return "-"
			}
			return v
		},
		"statusClass": func(s string) string {
			switch s {
			case "restarted", "skipped (already restarted)":
				return "st-ok"
			case "failed":
				return "st-bad"
			}
			return "muted"
		},
		"nodeStatus": nodeStatus,
		"phaseAt": func(n *Node, name string) string {
			for _, ph := range n.Phases {
				if ph.Name == name {
					return clock(ph.Time)
				}
			}
			return "-"
		},
		"cell":     mdCell,
		"code":     mdCode,
		"codeText": mdCodeText,
		"fence":    mdFence,
		"restores": restoreLines,
		"rebuild":  rebuildCommand,
		"hasCredentials": func(r *Report) bool {
			for _, p := range r.Products {
				if len(p.Credentials) > 0 || p.IdP != nil {
					return true
				}
			}
			return false
		},
	}
}

func nodeStatus(p *Product, n *Node) string {
	if p.Mode == "api" && n.Status == "untouched" {
		return "not restarted (API mode)"
	}
	if n.Status == "untouched" {
		return "not touched"
	}
	return n.Status
}

// HTML writes the report as one self-contained HTML page.
func HTML(w io.Writer, r *Report) error {
	t, err := htmltemplate.New("report").Funcs(funcs()).Parse(htmlSource)
	if err != nil {
		return fmt.Errorf("report template: %w", err)
	}
	return t.Execute(w, r)
}

// Markdown writes the report as Markdown (the timeline as a table), for tickets.
func Markdown(w io.Writer, r *Report) error {
	t, err := template.New("report").Funcs(funcs()).Parse(markdownSource)
	if err != nil {
		return fmt.Errorf("report template: %w", err)
	}
	return t.Execute(w, r)
}
