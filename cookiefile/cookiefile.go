// Package cookiefile reads and writes cookie jars in the Netscape cookie-file format (the one curl,
// wget and browser export add-ons use), and offers a small http.CookieJar that can be saved and
// loaded in it. reauth uses it for the sandbox's simulated browsers and for `reauth verify
// --cookies FILE`, so an operator can hand reauth the cookies of a real browser session.
//
// The format is one cookie per line, seven tab-separated fields:
//
//	domain  include-subdomains  path  secure  expiry(unix s, 0 = session)  name  value
//
// with "#HttpOnly_" prefixed to the domain for HttpOnly cookies (curl's extension). Lines starting
// with "#" (other than that prefix) and blank lines are comments.
package cookiefile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/reauth/reauth/internal/atomicfile"
	"github.com/reauth/reauth/internal/boundedfile"
)

// Header is the first line every Netscape cookie file starts with.
const Header = "# Netscape HTTP Cookie File"

const httpOnlyPrefix = "#HttpOnly_"

// Cookie is one line of a cookie file.
type Cookie struct {
	Domain            string // without a leading dot
	IncludeSubdomains bool   // false: host-only cookie
	Path              string
	Secure            bool
	HTTPOnly          bool
	Expires           time.Time // zero: a session cookie
	Name, Value       string
}

// Expired reports whether the cookie has expired at now (session cookies never do).
func (c Cookie) Expired(now time.Time) bool {
	return !c.Expires.IsZero() && !now.Before(c.Expires)
}

// maxLine bounds one line so that a hostile or corrupt file cannot exhaust memory.
const maxLine = 64 << 10

// Read parses a cookie file. Errors name the line.
func Read(r io.Reader) ([]Cookie, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxLine)
	var out []Cookie
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		httpOnly := false
		if strings.HasPrefix(line, httpOnlyPrefix) {
			httpOnly, line = true, line[len(httpOnlyPrefix):]
		} else if strings.HasPrefix(line, "#") {
			continue
		}
		c, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("cookie file line %d: %w", n, err)
		}
		c.HTTPOnly = httpOnly
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read cookie file: %w", err)
	}
	return out, nil
}

func parseLine(line string) (Cookie, error) {
	f := strings.Split(line, "\t")
	if len(f) == 6 { // a cookie with an empty value: some writers drop the trailing tab
		f = append(f, "")
	}
	if len(f) != 7 {
		return Cookie{}, fmt.Errorf("want 7 tab-separated fields (domain, subdomains, path, secure, expiry, name, value), got %d", len(f))
	}
	sub, err := parseBool(f[1])
	if err != nil {
		return Cookie{}, fmt.Errorf("include-subdomains: %w", err)
	}
	sec, err := parseBool(f[3])
	if err != nil {
		return Cookie{}, fmt.Errorf("secure: %w", err)
	}
	exp, err := strconv.ParseInt(f[4], 10, 64)
	if err != nil || exp < 0 {
		return Cookie{}, fmt.Errorf("expiry %q: want seconds since 1970 (0 for a session cookie)", f[4])
	}
	domain := strings.ToLower(f[0])
	if strings.HasPrefix(domain, ".") {
		// Old writers mark domain cookies with a leading dot instead of (or as well as) TRUE.
		domain, sub = strings.TrimLeft(domain, "."), true
	}
	if domain == "" || f[5] == "" {
		return Cookie{}, errors.New("empty domain or cookie name")
	}
	if strings.HasPrefix(domain, "#") {
		// Written back, the line would read as a comment.
		return Cookie{}, fmt.Errorf("domain %q is not a host name", f[0])
	}
	if strings.ContainsAny(f[5]+f[6], "; ") || strings.ContainsAny(f[5], "=") {
		return Cookie{}, fmt.Errorf("cookie %q: name or value holds a character a cookie cannot carry", f[5])
	}
	c := Cookie{Domain: domain, IncludeSubdomains: sub, Path: f[2], Secure: sec, Name: f[5], Value: f[6]}
	if c.Path == "" {
		c.Path = "/"
	}
	if exp > 0 {
		c.Expires = time.Unix(exp, 0).UTC()
	}
	return c, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToUpper(s) {
	case "TRUE":
		return true, nil
	case "FALSE":
		return false, nil
	}
	return false, fmt.Errorf("%q: want TRUE or FALSE", s)
}

// Write writes cookies in the Netscape format, header first.
func Write(w io.Writer, cookies []Cookie) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, Header)
	fmt.Fprintln(bw, "# Written by reauth. It holds live session cookies: keep it private.")
	fmt.Fprintln(bw)
	for _, c := range cookies {
		if strings.ContainsAny(c.Domain+c.Path+c.Name+c.Value, "\t\r\n") {
			return fmt.Errorf("cookie %q: a field holds a tab or newline", c.Name)
		}
		if strings.HasPrefix(c.Domain, "#") {
			return fmt.Errorf("cookie %q: domain %q would read back as a comment", c.Name, c.Domain)
		}
		prefix := ""
		if c.HTTPOnly {
			prefix = httpOnlyPrefix
		}
		var exp int64
		if !c.Expires.IsZero() {
			exp = c.Expires.Unix()
			if exp <= 0 {
				exp = 1 // 0 would turn an expired cookie into a session cookie
			}
		}
		fmt.Fprintf(bw, "%s%s\t%s\t%s\t%s\t%d\t%s\t%s\n", prefix, c.Domain, boolField(c.IncludeSubdomains),
			c.Path, boolField(c.Secure), exp, c.Name, c.Value)
	}
	return bw.Flush()
}

func boolField(b bool) string {
	if b {
		return "TRUE"
	}
	return "FALSE"
}

// maxFile bounds a whole cookie file: a browser's export of every site is a few MiB.
const maxFile = 32 << 20

// Load reads the cookie file at path: a regular file (not a pipe or device) of at most maxFile bytes.
func Load(path string) ([]Cookie, error) {
	b, err := boundedfile.Read(path, maxFile)
	if err != nil {
		return nil, fmt.Errorf("cookie file: %w", err)
	}
	defer clear(b)
	cs, err := Read(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cs, nil
}

// Save writes cookies to path atomically, readable by the owner only: the file holds live
// session credentials.
func Save(path string, cookies []Cookie) error {
	err := atomicfile.Write(path, 0o600, func(w io.Writer) error { return Write(w, cookies) })
	if err != nil {
		return fmt.Errorf("save cookie file %s: %w", path, err)
	}
	return nil
}
