package sshconfig

import (
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
)

// matchHost is a Host line: some pattern matches and no negated one does (a list of only negated
// patterns matches nothing, as in ssh).
func matchHost(patterns []string, host string) bool {
	var list []string
	for _, p := range patterns {
		list = append(list, strings.Split(p, ",")...)
	}
	return matchList(list, host)
}

// matchList matches s against patterns with * and ?, case-insensitively; "!p" excludes.
func matchList(patterns []string, s string) bool {
	s = strings.ToLower(s)
	matched := false
	for _, p := range patterns {
		p = strings.ToLower(strings.TrimSpace(p))
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		if p == "" {
			continue
		}
		if wildcard(p, s) {
			if neg {
				return false
			}
			matched = true
		}
	}
	return matched
}

// wildcard is ssh's pattern match: * any run, ? one character, nothing else special.
func wildcard(p, s string) bool {
	// path.Match would treat [ and \ specially: quote them first.
	q := strings.NewReplacer(`\`, `\\`, `[`, `\[`).Replace(p)
	// path.Match's * stops at '/', which never matters for host names and user names.
	ok, err := path.Match(q, s)
	return err == nil && ok
}

// match evaluates a Match line for the alias being resolved. Criteria are ANDed; a false one
// decides before one reauth cannot evaluate (exec, canonical, …), which is refused otherwise.
func (st *state) match(l line) (bool, error) {
	args := l.args
	if len(args) == 0 {
		return false, lineErr(l, "give Match a criterion, e.g. Match host jira-*", "Match without a criterion")
	}
	result := true
	var cannot string
	for i := 0; i < len(args); i++ {
		crit := strings.ToLower(args[i])
		neg := strings.HasPrefix(crit, "!")
		crit = strings.TrimPrefix(crit, "!")
		if crit == "all" {
			if len(args) > 1 && !(len(args) == 2 && strings.EqualFold(args[0], "canonical")) {
				return false, lineErr(l, "write Match all alone", "Match all cannot be combined")
			}
			return !neg, nil
		}
		var subject string
		switch crit {
		case "host":
			subject = st.hostname()
		case "originalhost":
			subject = st.alias
		case "user":
			subject = st.opts.LocalUser
			if u, _ := st.arg("user"); u != "" {
				subject = u
			}
		case "localuser":
			subject = st.opts.LocalUser
		case "canonical", "final":
			cannot = crit
			continue
		case "exec", "localnetwork", "tagged":
			cannot = crit
			i++
			continue
		default:
			return false, lineErr(l, "use host, originalhost, user, localuser or all", "Match: unknown criterion %q", args[i])
		}
		if i+1 >= len(args) {
			return false, lineErr(l, "give the criterion its patterns", "Match %s without patterns", crit)
		}
		i++
		if matchList(strings.Split(args[i], ","), subject) == neg {
			result = false
		}
	}
	if result && cannot != "" {
		return false, lineErr(l, "reauth evaluates Match host, originalhost, user, localuser and all: rewrite the block with those, "+
			"or restart these nodes with exec and your system ssh", "Match %s cannot be evaluated by reauth for %s", cannot, st.alias)
	}
	return result, nil
}

// expand replaces ~ and the %-tokens ssh allows in IdentityFile and UserKnownHostsFile.
func (h *Host) expand(s string, o Options) (string, error) {
	s = expandTilde(s, o.Home)
	short := o.LocalHost
	if i := strings.IndexByte(short, '.'); i >= 0 {
		short = short[:i]
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return "", fmt.Errorf("%q ends with %%", s)
		}
		i++
		switch s[i] {
		case '%':
			b.WriteByte('%')
		case 'd':
			b.WriteString(o.Home)
		case 'h':
			b.WriteString(h.HostName)
		case 'n':
			b.WriteString(h.Alias)
		case 'r':
			b.WriteString(h.User)
		case 'u':
			b.WriteString(o.LocalUser)
		case 'p':
			b.WriteString(strconv.Itoa(h.Port))
		case 'l':
			b.WriteString(o.LocalHost)
		case 'L':
			b.WriteString(short)
		case 'i':
			b.WriteString(strconv.Itoa(uid()))
		default:
			return "", fmt.Errorf("token %%%c in %q is not supported", s[i], s)
		}
	}
	return b.String(), nil
}

func uid() int { return os.Getuid() }
