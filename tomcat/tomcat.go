// Package tomcat finds out whether a node's Tomcat persists HTTP sessions across a restart (the
// SESSIONS.ser file), from its conf/server.xml and conf/context.xml, and where those files are.
// A rolling restart clears in-memory sessions only if Tomcat does not write them to disk at stop
// and load them back at start (docs/atlassian.md).
//
// Rules (docs/atlassian.md, measured on Tomcat 10.1.60): a <Manager> in conf/context.xml applies to
// every webapp and wins over a <Manager pathname=""/> in server.xml's <Context>, so both are read and
// persistence is on if either persists. A StandardManager persists unless pathname="" (no pathname
// means SESSIONS.ser). A PersistentManager persists to its Store (not a file reauth can remove). A
// Context with no Manager at all does not persist in Tomcat 10.1+, and (UNCONFIRMED) does in older
// Tomcats: the version comes from lib/catalina.jar or RELEASE-NOTES, and when it cannot be read
// the answer is Unknown. Per-webapp files under conf/<Engine>/<Host>/ are not read (Atlassian
// products declare their Context in server.xml).
package tomcat

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// State is whether sessions survive a restart.
type State string

const (
	Off     State = "off"
	On      State = "on"
	Unknown State = "unknown"
)

// ReadFunc reads a file of the node: os.ReadFile locally, or over SSH. A missing file must yield
// an error that matches fs.ErrNotExist.
type ReadFunc func(path string) ([]byte, error)

// Persistence is what Detect found.
type Persistence struct {
	State State
	// Files are the SESSIONS.ser paths to remove while the node is down. A path may hold a "*"
	// (one path element) when the webapps are not declared in server.xml.
	Files []string
	// Clearable is false when sessions persist somewhere other than files reauth can remove.
	Clearable bool
	// Reason says which file and element decided, for messages.
	Reason  string
	Version string // Tomcat version, when found
	// Fix says what to change to turn persistence off, naming the file and line that turned it
	// on ("" when it is off).
	Fix string
	// Where lists the elements that turned persistence on (or left it unknown), as file:line.
	Where []string
}

type manager struct {
	className, pathname string
	hasPathname         bool
	where               string // "server.xml" or "context.xml"
	file                string // its full path
	line                int
}

type context struct {
	path, workDir string
	engine, host  string
	managers      []manager
	line          int // of the <Context> in server.xml
}

// Detect reads base/conf/server.xml and base/conf/context.xml (base is CATALINA_BASE, the
// product's install directory for Atlassian's bundled Tomcat). versionDirs are extra directories
// to look for lib/catalina.jar or RELEASE-NOTES (CATALINA_HOME when it differs from base).
func Detect(read ReadFunc, base string, versionDirs ...string) (Persistence, error) {
	serverXML := path.Join(base, "conf", "server.xml")
	data, err := read(serverXML)
	if err != nil {
		return Persistence{}, fmt.Errorf("read %s: %w", serverXML, err)
	}
	ctxs, engineHost, err := parseServerXML(data, serverXML)
	if err != nil {
		return Persistence{}, fmt.Errorf("parse %s: %w", serverXML, err)
	}
	contextXML := path.Join(base, "conf", "context.xml")
	var global []manager
	if data, err := read(contextXML); err == nil {
		if global, err = parseContextXML(data, contextXML); err != nil {
			return Persistence{}, fmt.Errorf("parse %s: %w", contextXML, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Persistence{}, fmt.Errorf("read %s: %w", contextXML, err)
	}
	if len(ctxs) == 0 {
		// Webapps deployed from appBase: the names are not in server.xml.
		ctxs = []context{{path: "*", engine: engineHost[0], host: engineHost[1]}}
	}
	version := ""
	versionKnown := false
	dirs := append([]string{base}, versionDirs...)
	p := Persistence{State: Off, Clearable: true}
	var reasons, fixes []string
	for _, c := range ctxs {
		ms := append(append([]manager(nil), c.managers...), global...)
		if len(ms) == 0 {
			if !versionKnown {
				version, versionKnown = Version(read, dirs...), true
				p.Version = version
			}
			switch newer, ok := atLeast(version, 10, 1); {
			case !ok:
				p.State = worst(p.State, Unknown)
				reasons = append(reasons, fmt.Sprintf("context %q has no <Manager> and the Tomcat version is unknown: no lib/catalina.jar or RELEASE-NOTES in %s (Tomcat before 10.1 may persist sessions to SESSIONS.ser by default)",
					c.path, strings.Join(nonEmpty(dirs), " or ")))
				p.Where = append(p.Where, c.at(serverXML, contextXML))
				fixes = append(fixes, fmt.Sprintf("set CATALINA_HOME to the directory holding lib/catalina.jar (e.g. /usr/share/tomcat10 for Debian's tomcat10) in %s, or %s",
					path.Join(base, "bin", "setenv.sh"), c.addManager(serverXML, contextXML)))
			case newer:
				reasons = append(reasons, fmt.Sprintf("context %q has no <Manager> (Tomcat %s does not persist then)", c.path, version))
			default:
				p.State = worst(p.State, On)
				p.Files = append(p.Files, sessionFile(base, c, "SESSIONS.ser"))
				reasons = append(reasons, fmt.Sprintf("context %q has no <Manager>: Tomcat %s persists sessions to SESSIONS.ser by default (UNCONFIRMED)", c.path, version))
				p.Where = append(p.Where, c.at(serverXML, contextXML))
				fixes = append(fixes, c.addManager(serverXML, contextXML))
			}
			continue
		}
		for _, m := range ms {
			st, file, why := m.persists()
			reasons = append(reasons, fmt.Sprintf("context %q: %s %s", c.path, m.where, why))
			p.State = worst(p.State, st)
			if st != Off {
				p.Where = append(p.Where, fmt.Sprintf("%s:%d", m.file, m.line))
				fixes = append(fixes, m.fix())
			}
			if st == On {
				if file == "" {
					p.Clearable = false
				} else {
					p.Files = append(p.Files, sessionFile(base, c, file))
				}
			}
		}
	}
	p.Reason = strings.Join(reasons, "; ")
	if p.State != On {
		p.Files = nil
	}
	if p.State != Off {
		p.Fix = strings.Join(dedupe(fixes), "; ")
		p.Where = dedupe(p.Where)
	} else {
		p.Where = nil
	}
	p.Files = dedupe(p.Files)
	return p, nil
}

// fix says how to stop m from persisting sessions, naming its file and line.
func (m manager) fix() string {
	at := fmt.Sprintf("%s:%d", m.file, m.line)
	short := m.className[strings.LastIndex(m.className, ".")+1:]
	switch {
	case m.where == "context.xml" && (short == "" || short == "StandardManager"):
		return fmt.Sprintf(`remove the <Manager> at %s or set pathname="" on it (conf/context.xml applies to every webapp and overrides server.xml's <Context>)`, at)
	case m.where == "context.xml":
		return fmt.Sprintf(`remove the <Manager className=%q> at %s (conf/context.xml applies to every webapp and overrides server.xml's <Context>)`, short, at)
	case short == "" || short == "StandardManager":
		return fmt.Sprintf(`set pathname="" on the existing <Manager> at %s`, at)
	default:
		return fmt.Sprintf(`replace the <Manager className=%q> at %s with <Manager pathname=""/>`, short, at)
	}
}

// at is where c is declared: its <Context> in server.xml, or conf/context.xml for webapps not
// declared there.
func (c context) at(serverXML, contextXML string) string {
	if c.line == 0 {
		return contextXML
	}
	return fmt.Sprintf("%s:%d", serverXML, c.line)
}

// addManager is the fix for a context with no <Manager> anywhere.
func (c context) addManager(serverXML, contextXML string) string {
	if c.line == 0 {
		return fmt.Sprintf(`add <Manager pathname=""/> inside the <Context> of %s`, contextXML)
	}
	return fmt.Sprintf(`add <Manager pathname=""/> inside the <Context path=%q> at %s:%d`, c.path, serverXML, c.line)
}

func nonEmpty(in []string) []string {
	var out []string
	for _, s := range in {
		if s != "" {
			out = append(out, s)
		}
	}
	return dedupe(out)
}

// persists says whether m keeps sessions across a restart, and in which file.
func (m manager) persists() (State, string, string) {
	cls := m.className
	short := cls[strings.LastIndex(cls, ".")+1:]
	switch short {
	case "", "StandardManager":
		if m.hasPathname && strings.TrimSpace(m.pathname) == "" {
			return Off, "", `<Manager pathname=""> disables persistence`
		}
		file := m.pathname
		if !m.hasPathname {
			file = "SESSIONS.ser"
		}
		return On, file, fmt.Sprintf("<Manager> persists sessions to %s", file)
	case "PersistentManager":
		return On, "", "<Manager className=PersistentManager> keeps sessions in its Store"
	default:
		return Unknown, "", fmt.Sprintf("session manager %s may keep sessions across restarts", cls)
	}
}

func worst(a, b State) State {
	rank := map[State]int{Off: 0, Unknown: 1, On: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// sessionFile is where the context's StandardManager writes pathname: relative to the context's
// work directory ($CATALINA_BASE/work/<Engine>/<Host>/<app>).
func sessionFile(base string, c context, pathname string) string {
	pathname = expand(pathname, base)
	if path.IsAbs(pathname) {
		return pathname
	}
	work := expand(c.workDir, base)
	if work == "" {
		work = path.Join("work", c.engine, c.host, appName(c.path))
	}
	if !path.IsAbs(work) {
		work = path.Join(base, work)
	}
	return path.Join(work, pathname)
}

// appName is Tomcat's base name for a context path: "" → ROOT, "/a/b" → a#b.
func appName(p string) string {
	if p == "*" {
		return "*"
	}
	p = strings.Trim(p, "/")
	if p == "" {
		return "ROOT"
	}
	return strings.ReplaceAll(p, "/", "#")
}

func expand(s, base string) string {
	s = strings.ReplaceAll(s, "${catalina.base}", base)
	return strings.ReplaceAll(s, "${catalina.home}", base)
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// lineAt is the 1-based line of byte offset off in data.
func lineAt(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return 1 + strings.Count(string(data[:off]), "\n")
}

// parseServerXML returns the Contexts declared in server.xml (file is its path, for messages),
// and the first Engine and Host names.
func parseServerXML(data []byte, file string) ([]context, [2]string, error) {
	dec := xml.NewDecoder(strings.NewReader(string(data)))
	dec.Entity = xml.HTMLEntity
	var ctxs []context
	eh := [2]string{"Catalina", "localhost"}
	engine, host := "Catalina", "localhost"
	seenHost := false
	var cur *context
	depthInContext := 0
	for {
		off := dec.InputOffset() // where the next token starts
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, eh, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if cur != nil {
				depthInContext++
				if t.Name.Local == "Manager" && depthInContext == 1 {
					cur.managers = append(cur.managers, managerOf(t, "server.xml", file, lineAt(data, off)))
				}
				continue
			}
			switch t.Name.Local {
			case "Engine":
				engine = attr(t, "name", "Catalina")
			case "Host":
				host = attr(t, "name", "localhost")
				if !seenHost {
					eh, seenHost = [2]string{engine, host}, true
				}
			case "Context":
				cur = &context{path: attr(t, "path", ""), workDir: attr(t, "workDir", ""), engine: engine, host: host, line: lineAt(data, off)}
				depthInContext = 0
			}
		case xml.EndElement:
			if cur != nil {
				if depthInContext == 0 && t.Name.Local == "Context" {
					ctxs = append(ctxs, *cur)
					cur = nil
				} else {
					depthInContext--
				}
			}
		}
	}
	if !seenHost {
		eh = [2]string{engine, host}
	}
	return ctxs, eh, nil
}

// parseContextXML returns the <Manager> elements directly under conf/context.xml's <Context>.
func parseContextXML(data []byte, file string) ([]manager, error) {
	dec := xml.NewDecoder(strings.NewReader(string(data)))
	dec.Entity = xml.HTMLEntity
	var out []manager
	depth := 0
	for {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && t.Name.Local == "Manager" {
				out = append(out, managerOf(t, "context.xml", file, lineAt(data, off)))
			}
		case xml.EndElement:
			depth--
		}
	}
}

func managerOf(t xml.StartElement, where, file string, line int) manager {
	m := manager{className: attr(t, "className", ""), where: where, file: file, line: line}
	for _, a := range t.Attr {
		if a.Name.Local == "pathname" {
			m.pathname, m.hasPathname = a.Value, true
		}
	}
	return m
}

func attr(t xml.StartElement, name, def string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return def
}
