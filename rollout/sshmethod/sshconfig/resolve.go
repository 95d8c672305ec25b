package sshconfig

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/reauth/reauth"
)

// Preset holds values given before the config is read (reauth's inventory, like ssh's command
// line): they win over every config file. Zero fields are not given.
type Preset struct {
	User           string
	Port           int
	IdentityFiles  []string // replace the config's IdentityFile lines
	KnownHosts     []string // replace UserKnownHostsFile
	ConnectTimeout time.Duration
	// ProxyJump is a jump list ("a,b" or "none"); given, the config's ProxyJump/ProxyCommand are
	// not read (ssh -J).
	ProxyJump string
}

// Host is what the config says about one alias. Files are expanded (~ and %-tokens).
type Host struct {
	Alias          string // as asked for
	HostName       string // the address to connect to (default: Alias)
	User           string
	Port           int
	IdentityFiles  []string // nil: the caller's defaults
	IdentitiesOnly bool
	KnownHosts     []string // nil: the caller's default
	// StrictHostKeyChecking is the value given ("" when none); reauth is always strict.
	StrictHostKeyChecking string
	ProxyJump             []Jump // nil: direct
	ConnectTimeout        time.Duration
	ServerAliveInterval   time.Duration
	ServerAliveCountMax   int // default 3
	// Ignored lists the directives that applied and that reauth does not follow.
	Ignored []Setting
}

// Jump is one ProxyJump hop as written: its Host is itself an alias to resolve.
type Jump struct {
	User string
	Host string
	Port int
}

// String is the hop as written in ProxyJump.
func (j Jump) String() string {
	s := j.Host
	if j.User != "" {
		s = j.User + "@" + s
	}
	if j.Port != 0 {
		s = net.JoinHostPort(j.Host, strconv.Itoa(j.Port))
		if j.User != "" {
			s = j.User + "@" + s
		}
	}
	return s
}

// Setting is one directive and where it was read ("inventory" for a Preset).
type Setting struct {
	Keyword string
	Args    []string
	Where   string
}

// state is the walk over the lines for one alias.
type state struct {
	alias   string
	vals    map[string]Setting // first value of each keyword (identityfile: the first line)
	idFiles []Setting
	ignored []Setting
	opts    Options
}

// Resolve says how ssh would reach alias, with pre's values first.
func (c *Config) Resolve(alias string, pre Preset) (*Host, error) {
	st := &state{alias: strings.ToLower(alias), vals: map[string]Setting{}, opts: c.opts}
	given := func(kw string, args ...string) { st.vals[kw] = Setting{Keyword: kw, Args: args, Where: "inventory"} }
	if pre.User != "" {
		given("user", pre.User)
	}
	if pre.Port != 0 {
		given("port", strconv.Itoa(pre.Port))
	}
	if len(pre.KnownHosts) > 0 {
		given("userknownhostsfile", pre.KnownHosts...)
	}
	if pre.ConnectTimeout > 0 {
		given("connecttimeout", strconv.Itoa(int(pre.ConnectTimeout.Seconds())))
	}
	if pre.ProxyJump != "" {
		st.vals["proxy"] = Setting{Keyword: "proxyjump", Args: []string{pre.ProxyJump}, Where: "inventory"}
	}
	if len(pre.IdentityFiles) > 0 {
		given("identityfile")
		for _, f := range pre.IdentityFiles {
			st.idFiles = append(st.idFiles, Setting{Keyword: "identityfile", Args: []string{f}, Where: "inventory"})
		}
	}
	active := true
	if err := c.walk(c.lines, st, &active, false); err != nil {
		return nil, err
	}
	return st.host(alias)
}

// walk applies the lines in order; never is set inside an Include read from an inactive block.
func (c *Config) walk(ls []line, st *state, active *bool, never bool) error {
	for _, l := range ls {
		switch l.keyword {
		case "host":
			*active = !never && matchHost(l.args, st.alias)
		case "match":
			if never {
				*active = false
				continue
			}
			ok, err := st.match(l)
			if err != nil {
				return err
			}
			*active = ok
		case "include": // each file starts in the Include line's state, and it is restored after
			saved := *active
			for _, file := range l.include {
				if err := c.walk(file, st, active, never || !saved); err != nil {
					return err
				}
				*active = saved
			}
		default:
			if *active {
				if err := st.apply(l); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// apply takes one directive of an active block: the first value of each keyword wins.
func (st *state) apply(l line) error {
	kw := l.keyword
	set := Setting{Keyword: kw, Args: l.args, Where: l.Where()}
	slot := kw
	if kw == "proxyjump" || kw == "proxycommand" {
		slot = "proxy" // ssh takes whichever of the two comes first
	}
	if kw == "identityfile" {
		if _, preset := st.vals["identityfile"]; !preset {
			st.idFiles = append(st.idFiles, set)
		}
		return nil
	}
	if _, seen := st.vals[slot]; seen {
		return nil
	}
	st.vals[slot] = set
	switch {
	case l.skip || kind(kw) == ignored:
		st.ignored = append(st.ignored, set)
	case kind(kw) == refused && !harmless(kw, l.args):
		return lineErr(l, fmt.Sprintf("reauth's SSH client cannot follow it: remove it for these hosts (a Host block that does not match them), "+
			"or restart them with exec: {command: \"ssh %s …\"}, which runs your system ssh", st.alias),
			"%s applies to %s and is not supported by reauth", l.keyword, st.alias)
	case kw == "stricthostkeychecking":
		switch strings.ToLower(l.args[0]) {
		case "yes", "ask", "true":
		default: // no, off, accept-new: reauth never accepts a key on its own
			st.ignored = append(st.ignored, set)
		}
	}
	return nil
}

// arg is the first argument of keyword kw, and where it came from ("" when not given).
func (st *state) arg(kw string) (string, string) {
	s, ok := st.vals[kw]
	if !ok || len(s.Args) == 0 {
		return "", ""
	}
	return s.Args[0], s.Where
}

// host builds the result once every line was walked.
func (st *state) host(alias string) (*Host, error) {
	h := &Host{Alias: alias, HostName: st.hostname(), User: st.opts.LocalUser, Port: 22, ServerAliveCountMax: 3, Ignored: st.ignored}
	if u, _ := st.arg("user"); u != "" {
		h.User = u
	}
	var err error
	if p, where := st.arg("port"); p != "" {
		if h.Port, err = strconv.Atoi(p); err != nil || h.Port < 1 || h.Port > 65535 {
			return nil, reauth.Usage("write a port number", "ssh config %s: bad Port %q", where, p)
		}
	}
	if v, _ := st.arg("identitiesonly"); strings.EqualFold(v, "yes") || strings.EqualFold(v, "true") {
		h.IdentitiesOnly = true
	}
	h.StrictHostKeyChecking, _ = st.arg("stricthostkeychecking")
	for _, f := range st.idFiles {
		if strings.EqualFold(f.Args[0], "none") {
			continue
		}
		p, err := h.expand(f.Args[0], st.opts)
		if err != nil {
			return nil, reauth.Usage("use the tokens %d %h %r %u %p %n %l %L %i %% only", "ssh config %s: IdentityFile: %v", f.Where, err)
		}
		h.IdentityFiles = append(h.IdentityFiles, p)
	}
	if s, ok := st.vals["userknownhostsfile"]; ok {
		for _, a := range s.Args {
			p, err := h.expand(a, st.opts)
			if err != nil {
				return nil, reauth.Usage("use the tokens %d %h %r %u %p %n %l %L %i %% only", "ssh config %s: UserKnownHostsFile: %v", s.Where, err)
			}
			h.KnownHosts = append(h.KnownHosts, p)
		}
	}
	if h.ConnectTimeout, err = st.duration("connecttimeout"); err != nil {
		return nil, err
	}
	if h.ServerAliveInterval, err = st.duration("serveraliveinterval"); err != nil {
		return nil, err
	}
	if v, where := st.arg("serveralivecountmax"); v != "" {
		if h.ServerAliveCountMax, err = strconv.Atoi(v); err != nil || h.ServerAliveCountMax < 1 {
			return nil, reauth.Usage("write a whole number of at least 1", "ssh config %s: bad ServerAliveCountMax %q", where, v)
		}
	}
	if s, ok := st.vals["proxy"]; ok && s.Keyword == "proxyjump" {
		if h.ProxyJump, err = ParseJumps(s.Args[0]); err != nil {
			return nil, reauth.Usage("write ProxyJump as [user@]host[:port][,…] or none", "ssh config %s: %v", s.Where, err)
		}
	}
	return h, nil
}

// hostname is HostName with %h (the alias) expanded, or the alias.
func (st *state) hostname() string {
	hn, _ := st.arg("hostname")
	if hn == "" {
		return st.alias
	}
	return strings.NewReplacer("%%", "%", "%h", st.alias).Replace(hn)
}

// duration reads a time value in ssh's format (seconds, or 1m30s; "none" is 0).
func (st *state) duration(kw string) (time.Duration, error) {
	v, where := st.arg(kw)
	if v == "" || strings.EqualFold(v, "none") {
		return 0, nil
	}
	d, err := convtime(v)
	if err != nil {
		return 0, reauth.Usage("write seconds, e.g. 10, or a time such as 1m30s", "ssh config %s: bad %s %q", where, kw, v)
	}
	return d, nil
}

// convtime is ssh's time format: a number of seconds, or numbers with s, m, h, d, w units.
func convtime(s string) (time.Duration, error) {
	var total time.Duration
	units := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("bad time %q", s)
		}
		n, _ := strconv.Atoi(s[:i])
		unit := time.Second
		if i < len(s) {
			u, ok := units[s[i]|0x20]
			if !ok {
				return 0, fmt.Errorf("bad time unit in %q", s)
			}
			unit, i = u, i+1
		}
		total += time.Duration(n) * unit
		s = s[i:]
	}
	return total, nil
}

// ParseJumps reads a ProxyJump value: [user@]host[:port], comma-separated, ssh:// URIs, or none.
func ParseJumps(v string) ([]Jump, error) {
	if strings.EqualFold(v, "none") {
		return nil, nil
	}
	var out []Jump
	for _, spec := range strings.Split(v, ",") {
		spec = strings.TrimPrefix(strings.TrimSpace(spec), "ssh://")
		var j Jump
		if at := strings.LastIndex(spec, "@"); at >= 0 {
			j.User, spec = spec[:at], spec[at+1:]
		}
		j.Host = spec
		if h, p, err := net.SplitHostPort(spec); err == nil {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("ProxyJump %q: bad port", v)
			}
			j.Host, j.Port = h, n
		}
		if j.Host == "" || strings.ContainsAny(j.Host, " \t/") {
			return nil, fmt.Errorf("ProxyJump %q: bad host", v)
		}
		out = append(out, j)
	}
	return out, nil
}
