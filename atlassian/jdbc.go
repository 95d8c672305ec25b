package atlassian

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/reauth/reauth"
)

// jdbcExpected is appended to "not a JDBC URL" errors so the operator sees what would work.
const jdbcExpected = "expected e.g. jdbc:postgresql://host:5432/db, jdbc:mysql://host:3306/db, " +
	"jdbc:sqlserver://host:1433;databaseName=db, jdbc:oracle:thin:@//host:1521/service"

// ParseJDBCURLNotes is ParseJDBCURL plus notes the operator should see (e.g. "several hosts:
// using the first"). Discover turns the notes into Warnings.
func ParseJDBCURLNotes(raw string) (reauth.Database, []string, error) {
	p := &jdbcParser{}
	db, err := p.parse(strings.TrimSpace(raw))
	if err != nil {
		return reauth.Database{}, nil, fmt.Errorf("JDBC URL %q: %w", redactJDBC(raw), err)
	}
	return db, p.notes, nil
}

type jdbcParser struct{ notes []string }

func (p *jdbcParser) note(format string, args ...any) {
	p.notes = append(p.notes, fmt.Sprintf(format, args...))
}

func (p *jdbcParser) parse(s string) (reauth.Database, error) {
	if len(s) < 5 || !strings.EqualFold(s[:5], "jdbc:") {
		return reauth.Database{}, fmt.Errorf("not a JDBC URL: %s", jdbcExpected)
	}
	sub, rest, ok := strings.Cut(s[5:], ":")
	if !ok {
		return reauth.Database{}, fmt.Errorf("no ':' after jdbc:%s: %s", sub, jdbcExpected)
	}
	switch strings.ToLower(sub) {
	case "postgresql", "pgsql":
		return p.postgres(rest)
	case "mysql":
		return p.mysql(rest, reauth.MySQL)
	case "mariadb":
		return p.mysql(rest, reauth.MariaDB)
	case "sqlserver":
		return p.sqlserver(rest)
	case "jtds":
		return p.jtds(rest)
	case "oracle":
		return p.oracle(rest)
	case "h2":
		return reauth.Database{}, fmt.Errorf("embedded evaluation database (H2): not supported; migrate to a " +
			"supported database (PostgreSQL, MySQL, SQL Server, Oracle) as Atlassian advises for production, then run reauth")
	case "hsqldb":
		return reauth.Database{}, fmt.Errorf("embedded evaluation database (HSQLDB): not supported; migrate to a " +
			"supported database (PostgreSQL, MySQL, SQL Server, Oracle) as Atlassian advises for production, then run reauth")
	case "sqlite":
		path := rest
		if path == "" {
			return reauth.Database{}, fmt.Errorf("jdbc:sqlite: needs a file path (jdbc:sqlite:/path/to/db)")
		}
		return reauth.Database{Engine: reauth.SQLite, Name: path}, nil
	}
	return reauth.Database{}, fmt.Errorf("unsupported JDBC subprotocol %q: %s", sub, jdbcExpected)
}

// keepParam reports whether a URL property matters to how reauth connects (TLS, timeouts,
// authentication scheme). Everything else (pool sizes, encodings) is the product's business.
func keepParam(k string) bool {
	k = strings.ToLower(k)
	if strings.HasPrefix(k, "ssl") || strings.HasPrefix(k, "trust") {
		return true
	}
	switch k {
	case "usessl", "requiressl", "verifyservercertificate", "encrypt", "hostnameincertificate",
		"integratedsecurity", "authentication", "authenticationscheme", "domain", "connecttimeout",
		"logintimeout", "servertimezone", "targetservertype", "gssencmode", "tcpkeepalive",
		"allowpublickeyretrieval", "applicationintent", "multisubnetfailover":
		return true
	}
	return false
}

func (p *jdbcParser) setParam(db *reauth.Database, k, v string) {
	switch strings.ToLower(k) {
	case "user", "username":
		db.User = v
		return
	case "password":
		db.Password, db.PasswordSource = reauth.NewSecret(v), "jdbc url"
		return
	}
	if keepParam(k) {
		if db.Params == nil {
			db.Params = map[string]string{}
		}
		db.Params[k] = v
	}
}

// splitHostPort splits "host", "host:port", "[v6]", "[v6]:port". def is used when no port is given.
func splitHostPort(s string, def int) (string, int, error) {
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return "", 0, fmt.Errorf("unclosed [ in host %q: expected [ipv6]:port", s)
		}
		host, port = s[1:end], strings.TrimPrefix(s[end+1:], ":")
		if rest := s[end+1:]; rest != "" && !strings.HasPrefix(rest, ":") {
			return "", 0, fmt.Errorf("unexpected %q after [%s]: expected :port", rest, host)
		}
	} else if i := strings.LastIndex(s, ":"); i >= 0 {
		host, port = s[:i], s[i+1:]
	}
	if port == "" {
		return host, def, nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n <= 0 || n > 65535 {
		return "", 0, fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	return host, n, nil
}

// firstHost picks the first of comma-separated hosts (failover lists) and notes the others.
func (p *jdbcParser) firstHost(hosts string) string {
	parts := strings.Split(hosts, ",")
	if len(parts) > 1 {
		p.note("the URL lists %d hosts (%s): using the first, %s", len(parts), hosts, parts[0])
	}
	return parts[0]
}

func (p *jdbcParser) postgres(rest string) (reauth.Database, error) {
	db := reauth.Database{Engine: reauth.Postgres, Host: "localhost", Port: 5432}
	rest, query, _ := strings.Cut(rest, "?")
	if strings.HasPrefix(rest, "//") {
		hosts, name, _ := strings.Cut(rest[2:], "/")
		if hosts != "" {
			h, port, err := splitHostPort(p.firstHost(hosts), 5432)
			if err != nil {
				return db, err
			}
			if h != "" {
				db.Host = h
			}
			db.Port = port
		}
		rest = name
	}
	name, err := url.PathUnescape(rest)
	if err != nil {
		name = rest
	}
	db.Name = name
	if err := semicolonParams(name, "postgresql"); err != nil {
		return db, err
	}
	if err := p.query(&db, query, "&"); err != nil {
		return db, err
	}
	if s, ok := db.Params["currentSchema"]; ok {
		delete(db.Params, "currentSchema")
		if len(db.Params) == 0 {
			db.Params = nil
		}
		db.Schema = s
	}
	if db.Schema != "" && strings.Contains(db.Schema, ",") {
		first := strings.TrimSpace(strings.Split(db.Schema, ",")[0])
		p.note("currentSchema lists a search path (%s): looking for the token table in %s", db.Schema, first)
		db.Schema = first
	}
	if db.Name == "" {
		return db, fmt.Errorf("no database name: expected jdbc:postgresql://host:5432/DATABASE")
	}
	return db, nil
}

// semicolonParams refuses SQL Server's ";key=value" parameters after a database name of a URL that
// takes them after '?': the driver would read them as part of the name, and the name is printed
// (in plans and errors) where a ";password=…" must never appear. The error does not quote the name.
func semicolonParams(name, sub string) error {
	if !strings.Contains(name, ";") {
		return nil
	}
	return fmt.Errorf("';' in the database name: jdbc:%s takes its parameters after '?', separated by '&' "+
		"(jdbc:%s://host/db?key=value), and a password belongs in REAUTH_DB_PASSWORD, not in the URL", sub, sub)
}

// query applies key=value pairs separated by sep (URL-decoded) to db.
func (p *jdbcParser) query(db *reauth.Database, q, sep string) error {
	for _, kv := range strings.Split(q, sep) {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		if strings.EqualFold(k, "currentSchema") {
			if db.Params == nil {
				db.Params = map[string]string{}
			}
			db.Params["currentSchema"] = v
			continue
		}
		p.setParam(db, k, v)
	}
	return nil
}

func (p *jdbcParser) mysql(rest string, engine reauth.Engine) (reauth.Database, error) {
	db := reauth.Database{Engine: engine, Host: "localhost", Port: 3306}
	// Connector/J and MariaDB Connector/J name HA modes before the "//": take the first host.
	if mode, after, ok := strings.Cut(rest, "//"); ok && mode != "" {
		mode = strings.TrimSuffix(mode, ":")
		switch strings.ToLower(mode) {
		case "loadbalance", "replication", "failover", "sequential", "aurora", "load-balance-read":
			p.note("%s URL: reauth connects to the first host only", mode)
			rest = "//" + after
		default:
			return db, fmt.Errorf("unexpected %q before //: expected jdbc:%s://host:3306/db", mode, engine)
		}
	}
	if !strings.HasPrefix(rest, "//") {
		return db, fmt.Errorf("expected jdbc:%s://host:3306/db", engine)
	}
	rest, query, _ := strings.Cut(rest[2:], "?")
	hosts, name, _ := cutOutsideParens(rest, '/')
	if at := strings.LastIndex(hosts, "@"); at >= 0 && !strings.Contains(hosts[at:], ")") {
		user, pass, hasPass := strings.Cut(hosts[:at], ":")
		db.User = user
		if hasPass {
			db.Password, db.PasswordSource = reauth.NewSecret(pass), "jdbc url"
		}
		hosts = hosts[at+1:]
	}
	if hosts != "" {
		if err := p.mysqlHost(&db, hosts); err != nil {
			return db, err
		}
	}
	if n, err := url.PathUnescape(name); err == nil {
		name = n
	}
	db.Name = name
	if err := semicolonParams(name, string(engine)); err != nil {
		return db, err
	}
	if err := p.query(&db, query, "&"); err != nil {
		return db, err
	}
	delete(db.Params, "currentSchema")
	if db.Name == "" {
		return db, fmt.Errorf("no database name: expected jdbc:%s://host:3306/DATABASE", engine)
	}
	return db, nil
}

// mysqlHost understands host:port, [v6]:port, address=(host=h)(port=p)..., (host=h,port=p),
// and comma-separated lists of those (the first wins).
func (p *jdbcParser) mysqlHost(db *reauth.Database, hosts string) error {
	list := splitOutsideParens(hosts, ',')
	if len(list) > 1 {
		p.note("the URL lists %d hosts: using the first, %s", len(list), list[0])
	}
	h := strings.TrimSpace(list[0])
	var kv map[string]string
	switch {
	case strings.HasPrefix(asciiLower(h), "address="):
		kv = parenPairs(h[len("address="):])
	case strings.HasPrefix(h, "("):
		kv = map[string]string{}
		for _, pair := range strings.Split(strings.Trim(h, "()"), ",") {
			k, v, _ := strings.Cut(pair, "=")
			kv[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	default:
		host, port, err := splitHostPort(h, 3306)
		if err != nil {
			return err
		}
		if host != "" {
			db.Host = host
		}
		db.Port = port
		return nil
	}
	if v := kv["host"]; v != "" {
		db.Host = v
	}
	if v := kv["port"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 65535 {
			return fmt.Errorf("port %q is not a number from 1 to 65535", v)
		}
		db.Port = n
	}
	if strings.EqualFold(kv["protocol"], "unix") || kv["path"] != "" {
		db.Socket = kv["path"]
	}
	return nil
}

// parenPairs reads (k=v)(k=v)... into a lower-cased map.
func parenPairs(s string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(s, "(") {
		part = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(part), ")"))
		if k, v, ok := strings.Cut(part, "="); ok {
			out[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	return out
}

// cutOutsideParens is strings.Cut that ignores sep inside parentheses.
func cutOutsideParens(s string, sep byte) (string, string, bool) {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			if depth > 0 {
				depth--
			}
		case sep:
			if depth == 0 {
				return s[:i], s[i+1:], true
			}
		}
	}
	return s, "", false
}

func splitOutsideParens(s string, sep byte) []string {
	var out []string
	for {
		a, b, ok := cutOutsideParens(s, sep)
		out = append(out, a)
		if !ok {
			return out
		}
		s = b
	}
}

// redactJDBC hides a password carried in a URL (user:pass@, password=…, user/pass@) so that
// errors can quote the URL.
func redactJDBC(s string) string {
	lower := asciiLower(s)
	for _, key := range []string{"password="} {
		for i := strings.Index(lower, key); i >= 0; {
			start := i + len(key)
			end := start
			for end < len(s) && s[end] != '&' && s[end] != ';' {
				end++
			}
			s = s[:start] + "***" + s[end:]
			lower = asciiLower(s)
			next := strings.Index(lower[start+3:], key)
			if next < 0 {
				break
			}
			i = start + 3 + next
		}
	}
	// user:pass@host (MySQL, MariaDB) and user/pass@ (Oracle thin/oci).
	if i := strings.Index(s, "//"); i >= 0 {
		auth, _, _ := strings.Cut(s[i+2:], "/")
		if at := strings.LastIndex(auth, "@"); at >= 0 {
			if c := strings.Index(auth[:at], ":"); c >= 0 {
				s = s[:i+2] + auth[:c+1] + "***" + s[i+2+at:]
			}
		}
	}
	for _, mark := range []string{":thin:", ":oci:"} {
		if i := strings.Index(asciiLower(s), mark); i >= 0 {
			start := i + len(mark)
			if at := strings.Index(s[start:], "@"); at >= 0 {
				if sl := strings.Index(s[start:start+at], "/"); sl >= 0 {
					s = s[:start+sl+1] + "***" + s[start+at:]
				}
			}
		}
	}
	return s
}

// asciiLower lower-cases A-Z only, so that byte offsets found in the result are valid in the
// original (strings.ToLower can change the length of invalid or non-ASCII text).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
