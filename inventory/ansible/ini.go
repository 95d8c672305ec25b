package ansible

import (
	"fmt"
	"strconv"
	"strings"
)

// parseINI reads an INI inventory: [group] host lines ("name[:port] key=value …"), [group:vars]
// lines ("key=value") and [group:children] lines (group names). Host names may hold ranges
// (web[01:03], db[a:c]). Lines starting with # or ; are comments.
func (inv *Inventory) parseINI(data []byte, name string) error {
	cur, section := inv.group("ungrouped"), "hosts"
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(strings.TrimRight(raw, "\r"))
		at := fmt.Sprintf("%s:%d", name, i+1)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			if end < 0 {
				return fmt.Errorf("%s: section header without ]", at)
			}
			head := line[1:end]
			gname, kind, _ := strings.Cut(head, ":")
			switch kind {
			case "", "vars", "children":
			default:
				return fmt.Errorf("%s: section [%s]: unknown kind %q (hosts, vars or children)", at, head, kind)
			}
			cur, section = inv.group(gname), kind
			if kind == "" {
				section = "hosts"
			}
			continue
		}
		switch section {
		case "children":
			inv.addChild(cur, strings.Fields(line)[0])
		case "vars":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				return fmt.Errorf("%s: [%s:vars] line without key=value", at, cur.name)
			}
			cur.vars[strings.TrimSpace(k)] = iniValue(strings.TrimSpace(v))
		default:
			if err := inv.iniHost(cur, line, at); err != nil {
				return err
			}
		}
	}
	return nil
}

// iniHost reads one host line of a [group] section.
func (inv *Inventory) iniHost(g *group, line, at string) error {
	words, err := shellWords(line, true)
	if err != nil {
		return fmt.Errorf("%s: %v", at, err)
	}
	if len(words) == 0 {
		return nil
	}
	spec, port := words[0], ""
	if i := strings.LastIndexByte(spec, ':'); i > 0 && !strings.Contains(spec[i:], "]") && strings.Count(spec, ":") == 1 {
		spec, port = spec[:i], spec[i+1:]
	}
	names, err := expandRange(spec)
	if err != nil {
		return fmt.Errorf("%s: %v", at, err)
	}
	vars := map[string]string{}
	if port != "" {
		vars["ansible_port"] = port
	}
	for _, w := range words[1:] {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			return fmt.Errorf("%s: host %s: %q is not key=value", at, spec, w)
		}
		vars[k] = iniValue(v)
	}
	for _, n := range names {
		h := inv.addHost(g, n)
		for k, v := range vars {
			h.vars[k] = v
		}
	}
	return nil
}

// iniValue is a value as Ansible's literal evaluation leaves it: quotes removed.
func iniValue(v string) string {
	if len(v) >= 2 && (v[0] == '\'' || v[0] == '"') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// expandRange expands one [a:b] or [a:b:step] range of a host pattern (numbers, zero-padded as
// written, or single letters).
func expandRange(s string) ([]string, error) {
	open := strings.IndexByte(s, '[')
	if open < 0 {
		return []string{s}, nil
	}
	end := strings.IndexByte(s[open:], ']')
	if end < 0 {
		return nil, fmt.Errorf("host range %q without ]", s)
	}
	end += open
	parts := strings.Split(s[open+1:end], ":")
	if len(parts) < 2 || len(parts) > 3 {
		return nil, fmt.Errorf("host range %q: write [start:end] or [start:end:step]", s)
	}
	step := 1
	if len(parts) == 3 {
		var err error
		if step, err = strconv.Atoi(parts[2]); err != nil || step < 1 {
			return nil, fmt.Errorf("host range %q: bad step", s)
		}
	}
	var items []string
	if a, errA := strconv.Atoi(parts[0]); errA == nil {
		b, err := strconv.Atoi(parts[1])
		if err != nil || b < a || b-a > 10000 {
			return nil, fmt.Errorf("host range %q: bad end", s)
		}
		for n := a; n <= b; n += step {
			items = append(items, fmt.Sprintf("%0*d", len(parts[0]), n))
		}
	} else if len(parts[0]) == 1 && len(parts[1]) == 1 && parts[0] <= parts[1] {
		for c := parts[0][0]; c <= parts[1][0]; c += byte(step) {
			items = append(items, string(c))
		}
	} else {
		return nil, fmt.Errorf("host range %q: numbers or single letters", s)
	}
	rest, err := expandRange(s[end+1:])
	if err != nil {
		return nil, err
	}
	var out []string
	for _, it := range items {
		for _, r := range rest {
			out = append(out, s[:open]+it+r)
		}
	}
	return out, nil
}

// shellWords splits a line as a POSIX shell would (quotes, backslashes); with comments, a word
// starting with # ends the line.
func shellWords(s string, comments bool) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				out, inWord = append(out, cur.String()), false
				cur.Reset()
			}
		case c == '#' && !inWord && comments:
			return out, nil
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated quote in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i, inWord = i+1+j, true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated quote in %q", s)
			}
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}
