// Package sshconfig reads OpenSSH client configuration files (ssh_config(5)) and resolves a host
// alias the way ssh does: blocks in file order, the first value of a keyword wins, Host patterns
// with wildcards and "!" negation, Match host/originalhost/user/localuser/all, Include (globs,
// relative to ~/.ssh), and the %-tokens of IdentityFile and UserKnownHostsFile.
//
// It reads only what reauth's native SSH client can honour. A keyword that would change where or
// how ssh connects and that reauth cannot follow (ProxyCommand, LocalForward, …) is refused with its
// file:line when it applies to the host being resolved; keywords that do not change the
// connection (Compression, ForwardAgent, ControlMaster, …) are listed as ignored, so a caller can
// warn. Nothing is ignored silently. A word that is no ssh_config keyword at all is an error at
// its line, as it is for ssh.
package sshconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/boundedfile"
)

// maxConfigFile bounds one config file; maxDepth bounds Include nesting (OpenSSH's is 16).
const (
	maxConfigFile = 1 << 20
	maxDepth      = 16
)

// Options are the local facts the tokens and Match criteria need.
type Options struct {
	Home      string // ~ and %d; relative Include paths are under Home/.ssh
	LocalUser string // %u, Match localuser, and the default remote user
	LocalHost string // %l
}

// Config is one or more parsed config files, in the order ssh would read them.
type Config struct {
	lines []line
	opts  Options
	// ignoreUnknown are the IgnoreUnknown patterns seen so far while parsing.
	ignoreUnknown []string
	Files         []string // the files read, Includes too
}

// line is one directive, or a Host/Match condition, or an Include with the lines it brought in.
type line struct {
	file    string
	num     int
	keyword string // lower case
	args    []string
	// skip marks an unknown keyword that an earlier IgnoreUnknown names: listed as ignored.
	skip    bool
	include [][]line // Include: each included file's lines
}

// Where is file:line.
func (l line) Where() string { return fmt.Sprintf("%s:%d", l.file, l.num) }

// Load parses the files (a missing file is skipped, as ssh skips a missing ~/.ssh/config).
func Load(paths []string, o Options) (*Config, error) {
	c := &Config{opts: o}
	for _, p := range paths {
		ls, err := c.readFile(p, 0, true)
		if err != nil {
			return nil, err
		}
		c.lines = append(c.lines, ls...)
	}
	return c, nil
}

// Parse parses one config document; name is the file name its errors give.
func Parse(data []byte, name string, o Options) (*Config, error) {
	c := &Config{opts: o}
	ls, err := c.parse(data, name, 0)
	if err != nil {
		return nil, err
	}
	c.lines = ls
	return c, nil
}

func (c *Config) readFile(path string, depth int, missingOK bool) ([]line, error) {
	data, err := boundedfile.Read(path, maxConfigFile)
	if err != nil {
		if missingOK && os.IsNotExist(err) {
			return nil, nil
		}
		return nil, reauth.Usage("fix the path, or point ssh_config at another file", "read ssh config %s: %w", path, err)
	}
	c.Files = append(c.Files, path)
	return c.parse(data, path, depth)
}

func (c *Config) parse(data []byte, name string, depth int) ([]line, error) {
	var out []line
	for i, raw := range strings.Split(string(data), "\n") {
		l := line{file: name, num: i + 1}
		kw, args, err := split(strings.TrimRight(raw, "\r"))
		if err != nil {
			return nil, lineErr(l, "close the quote", "%v", err)
		}
		if kw == "" {
			continue
		}
		l.keyword, l.args = strings.ToLower(kw), args
		if l.keyword == "ignoreunknown" {
			c.ignoreUnknown = append(c.ignoreUnknown, strings.Split(strings.ToLower(strings.Join(args, ",")), ",")...)
		}
		if kind(l.keyword) == unknown && matchList(c.ignoreUnknown, l.keyword) {
			l.skip = true
		} else if kind(l.keyword) == unknown {
			return nil, lineErr(l, "remove it or fix its spelling (ssh itself refuses it too)", "%q is not an ssh_config keyword", kw)
		}
		if len(args) == 0 && l.keyword != "match" {
			return nil, lineErr(l, "give it a value", "%s without a value", kw)
		}
		if l.keyword == "include" {
			if l.include, err = c.includes(l, depth); err != nil {
				return nil, err
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// includes reads every file an Include line names, globs expanded in lexical order.
func (c *Config) includes(l line, depth int) ([][]line, error) {
	if depth+1 > maxDepth {
		return nil, lineErr(l, "remove the Include loop", "Include nested more than %d deep", maxDepth)
	}
	var out [][]line
	for _, a := range l.args {
		p := expandTilde(a, c.opts.Home)
		if !filepath.IsAbs(p) {
			p = filepath.Join(c.opts.Home, ".ssh", p)
		}
		matches, err := filepath.Glob(p)
		if err != nil {
			return nil, lineErr(l, "fix the pattern", "Include %q: %v", a, err)
		}
		sort.Strings(matches)
		for _, m := range matches {
			ls, err := c.readFile(m, depth+1, false)
			if err != nil {
				return nil, err
			}
			out = append(out, ls)
		}
	}
	return out, nil
}

// split cuts a config line into its keyword and arguments: "Keyword value", "Keyword=value",
// double quotes around an argument, and "#" starting a comment (at the start of a word).
func split(s string) (string, []string, error) {
	s = strings.TrimSpace(s)
	if s == "" || s[0] == '#' {
		return "", nil, nil
	}
	end := strings.IndexAny(s, " \t=")
	if end < 0 {
		return s, nil, nil
	}
	kw, rest := s[:end], strings.TrimLeft(s[end:], " \t")
	if strings.HasPrefix(rest, "=") { // one '=' may separate keyword and value
		rest = strings.TrimLeft(rest[1:], " \t")
	}
	var args []string
	for rest != "" {
		if rest[0] == '#' {
			break
		}
		var a string
		if rest[0] == '"' {
			j := strings.IndexByte(rest[1:], '"')
			if j < 0 {
				return "", nil, fmt.Errorf("unterminated quote")
			}
			a, rest = rest[1:j+1], rest[j+2:]
		} else {
			j := strings.IndexAny(rest, " \t")
			if j < 0 {
				j = len(rest)
			}
			a, rest = rest[:j], rest[j:]
		}
		args = append(args, a)
		rest = strings.TrimLeft(rest, " \t")
	}
	return kw, args, nil
}

func expandTilde(p, home string) string {
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(home, p[2:])
	}
	return p
}

// lineErr is a usage error at a config line.
func lineErr(l line, hint, format string, args ...any) error {
	return reauth.Usage(hint, "ssh config %s: %s", l.Where(), fmt.Sprintf(format, args...))
}
