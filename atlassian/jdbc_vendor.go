package atlassian

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/reauth/reauth"
)

// sqlserver parses Microsoft's form:
// jdbc:sqlserver://[host[\instance][:port]][;property=value]...  (properties case-insensitive,
// values optionally in {braces} so they may hold ';').
func (p *jdbcParser) sqlserver(rest string) (reauth.Database, error) {
	db := reauth.Database{Engine: reauth.SQLServer}
	if !strings.HasPrefix(rest, "//") {
		return db, fmt.Errorf("expected jdbc:sqlserver://host:1433;databaseName=db")
	}
	hostPart, props, _ := strings.Cut(rest[2:], ";")
	portSet := false
	if hostPart != "" {
		host, port := hostPart, ""
		if !strings.HasPrefix(host, "[") {
			if i := strings.LastIndex(host, ":"); i >= 0 {
				host, port = host[:i], host[i+1:]
			}
		} else if end := strings.Index(host, "]"); end >= 0 {
			host, port = host[1:end], strings.TrimPrefix(host[end+1:], ":")
		}
		if h, inst, ok := strings.Cut(host, `\`); ok {
			host, db.Instance = h, inst
		}
		db.Host = host
		if port != "" {
			n, err := strconv.Atoi(port)
			if err != nil || n <= 0 || n > 65535 {
				return db, fmt.Errorf("port %q is not a number from 1 to 65535", port)
			}
			db.Port, portSet = n, true
		}
	}
	pairs, err := semicolonProps(props)
	if err != nil {
		return db, err
	}
	for _, kv := range pairs {
		switch strings.ToLower(kv[0]) {
		case "servername", "server":
			h, inst, _ := strings.Cut(kv[1], `\`)
			db.Host = h
			if inst != "" {
				db.Instance = inst
			}
		case "instancename":
			db.Instance = kv[1]
		case "portnumber", "port":
			n, err := strconv.Atoi(kv[1])
			if err != nil || n <= 0 || n > 65535 {
				return db, fmt.Errorf("%s %q is not a number from 1 to 65535", kv[0], kv[1])
			}
			db.Port, portSet = n, true
		case "databasename", "database":
			db.Name = kv[1]
		default:
			p.setParam(&db, kv[0], kv[1])
		}
	}
	if db.Host == "" {
		db.Host = "localhost"
	}
	if !portSet {
		if db.Instance != "" {
			// A named instance without a port is found through the SQL Server Browser (UDP 1434);
			// forcing 1433 would reach the default instance instead.
			p.note("named instance %s without a port: the port is looked up through SQL Server Browser (UDP 1434)", db.Instance)
		} else {
			db.Port = 1433
		}
	}
	if db.Name == "" {
		return db, fmt.Errorf("no database name: expected jdbc:sqlserver://host:1433;databaseName=DATABASE")
	}
	return db, nil
}

// semicolonProps splits "a=1;b={x;y};c=3" into pairs.
func semicolonProps(s string) ([][2]string, error) {
	var out [][2]string
	for len(s) > 0 {
		var part string
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			part, s, _ = strings.Cut(s, ";")
			if strings.TrimSpace(part) != "" {
				return nil, fmt.Errorf("property %q has no value: expected ;name=value", part)
			}
			continue
		}
		if strings.Contains(k, ";") { // an empty segment before this key
			before, after, _ := strings.Cut(k, ";")
			if strings.TrimSpace(before) != "" {
				return nil, fmt.Errorf("property %q has no value: expected ;name=value", before)
			}
			s = after + "=" + v
			continue
		}
		if strings.HasPrefix(v, "{") {
			end := strings.Index(v, "}")
			if end < 0 {
				return nil, fmt.Errorf("property %s: unclosed { in value", k)
			}
			part, s = v[1:end], strings.TrimPrefix(v[end+1:], ";")
		} else {
			part, s, _ = strings.Cut(v, ";")
		}
		out = append(out, [2]string{strings.TrimSpace(k), part})
	}
	return out, nil
}

// jtds parses jdbc:jtds:sqlserver://host[:port][/database][;property=value]...
func (p *jdbcParser) jtds(rest string) (reauth.Database, error) {
	db := reauth.Database{Engine: reauth.SQLServer}
	kind, after, ok := strings.Cut(rest, ":")
	if !ok || !strings.EqualFold(kind, "sqlserver") {
		return db, fmt.Errorf("only jTDS for SQL Server is supported: expected jdbc:jtds:sqlserver://host:1433/db")
	}
	if !strings.HasPrefix(after, "//") {
		return db, fmt.Errorf("expected jdbc:jtds:sqlserver://host:1433/db")
	}
	main, props, _ := strings.Cut(after[2:], ";")
	hostPort, name, _ := strings.Cut(main, "/")
	host, port, err := splitHostPort(hostPort, 1433)
	if err != nil {
		return db, err
	}
	db.Host, db.Port, db.Name = host, port, name
	pairs, err := semicolonProps(props)
	if err != nil {
		return db, err
	}
	for _, kv := range pairs {
		switch strings.ToLower(kv[0]) {
		case "instance":
			db.Instance = kv[1]
		case "databasename":
			db.Name = kv[1]
		default:
			p.setParam(&db, kv[0], kv[1])
		}
	}
	if db.Host == "" {
		return db, fmt.Errorf("no host: expected jdbc:jtds:sqlserver://HOST:1433/db")
	}
	if db.Name == "" {
		return db, fmt.Errorf("no database name: expected jdbc:jtds:sqlserver://host:1433/DATABASE")
	}
	return db, nil
}

// oracle parses jdbc:oracle:thin:[user/pass]@target, where target is host:port:SID,
// //host:port/service, host:port/service, or a (DESCRIPTION=...) TNS descriptor.
func (p *jdbcParser) oracle(rest string) (reauth.Database, error) {
	db := reauth.Database{Engine: reauth.Oracle, Port: 1521}
	driver, after, ok := strings.Cut(rest, ":")
	if !ok || (!strings.EqualFold(driver, "thin") && !strings.EqualFold(driver, "oci")) {
		return db, fmt.Errorf("expected jdbc:oracle:thin:@host:1521:SID or jdbc:oracle:thin:@//host:1521/service")
	}
	cred, target, ok := strings.Cut(after, "@")
	if !ok {
		return db, fmt.Errorf("no @ before the target: expected jdbc:oracle:thin:@//host:1521/service")
	}
	if cred != "" {
		user, pass, hasPass := strings.Cut(cred, "/")
		db.User = user
		if hasPass {
			db.Password, db.PasswordSource = reauth.NewSecret(pass), "jdbc url"
		}
	}
	target = strings.TrimSpace(target)
	if strings.HasPrefix(target, "(") {
		return p.oracleDescriptor(db, target)
	}
	target, _, _ = strings.Cut(target, "?")
	lower := asciiLower(target)
	switch {
	case strings.HasPrefix(lower, "ldap://"), strings.HasPrefix(lower, "ldaps://"):
		return db, fmt.Errorf("LDAP naming is not supported: give the database as //host:1521/service")
	case strings.HasPrefix(lower, "tcps://"):
		db.Params = map[string]string{"protocol": "tcps"}
		target = "//" + target[len("tcps://"):]
	case strings.HasPrefix(lower, "tcp://"):
		target = "//" + target[len("tcp://"):]
	}
	if strings.HasPrefix(target, "//") {
		hostPort, svc, _ := strings.Cut(target[2:], "/")
		svc, _, _ = strings.Cut(svc, ":") // service[:server]
		svc, _, _ = strings.Cut(svc, "/") // service[/instance]
		h, port, err := splitHostPort(hostPort, 1521)
		if err != nil {
			return db, err
		}
		db.Host, db.Port, db.Name = h, port, svc
	} else if hostPort, svc, ok := strings.Cut(target, "/"); ok {
		h, port, err := splitHostPort(hostPort, 1521)
		if err != nil {
			return db, err
		}
		db.Host, db.Port, db.Name = h, port, svc
	} else {
		parts := strings.Split(target, ":")
		switch len(parts) {
		case 3:
			n, err := strconv.Atoi(parts[1])
			if err != nil || n <= 0 || n > 65535 {
				return db, fmt.Errorf("port %q is not a number from 1 to 65535", parts[1])
			}
			db.Host, db.Port, db.Name, db.OracleSID = parts[0], n, parts[2], true
		case 2:
			db.Host, db.Name, db.OracleSID = parts[0], parts[1], true
		default:
			return db, fmt.Errorf("%q looks like a tnsnames.ora alias, which reauth cannot resolve: "+
				"give host:1521:SID, //host:1521/service or the full (DESCRIPTION=...)", target)
		}
	}
	if db.Host == "" || db.Name == "" {
		return db, fmt.Errorf("expected host and service or SID, as in jdbc:oracle:thin:@//host:1521/service")
	}
	return db, nil
}

func (p *jdbcParser) oracleDescriptor(db reauth.Database, desc string) (reauth.Database, error) {
	depth, closed := 0, -1
	for i := 0; i < len(desc); i++ {
		switch desc[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return db, fmt.Errorf("unbalanced ) in the TNS descriptor")
			}
			if depth == 0 && closed < 0 {
				closed = i
			}
		}
	}
	if depth != 0 {
		return db, fmt.Errorf("unbalanced ( in the TNS descriptor")
	}
	if rest := strings.TrimSpace(desc[closed+1:]); rest != "" {
		return db, fmt.Errorf("unexpected %q after the TNS descriptor", rest)
	}
	db.OracleDescriptor = desc
	db.Port = 0
	leaves := descriptorLeaves(desc)
	hosts := 0
	for _, kv := range leaves {
		switch kv[0] {
		case "HOST":
			hosts++
			if db.Host == "" {
				db.Host = kv[1]
			}
		case "PORT":
			if db.Port == 0 {
				n, err := strconv.Atoi(kv[1])
				if err != nil || n <= 0 || n > 65535 {
					return db, fmt.Errorf("PORT %q is not a number from 1 to 65535", kv[1])
				}
				db.Port = n
			}
		case "SERVICE_NAME":
			if db.Name == "" {
				db.Name, db.OracleSID = kv[1], false
			}
		case "SID":
			if db.Name == "" {
				db.Name, db.OracleSID = kv[1], true
			}
		}
	}
	if hosts > 1 {
		p.note("the TNS descriptor lists %d addresses: the driver gets the whole descriptor; %s is shown", hosts, db.Host)
	}
	if db.Port == 0 {
		db.Port = 1521
	}
	if db.Host == "" || db.Name == "" {
		return db, fmt.Errorf("the TNS descriptor needs (HOST=...) and (SERVICE_NAME=...) or (SID=...)")
	}
	return db, nil
}

// descriptorLeaves returns the innermost (KEY=value) pairs of a TNS descriptor, keys upper-cased.
func descriptorLeaves(desc string) [][2]string {
	var out [][2]string
	for i := 0; i < len(desc); i++ {
		if desc[i] != '(' {
			continue
		}
		end := strings.IndexAny(desc[i+1:], "()")
		if end < 0 || desc[i+1+end] != ')' {
			continue
		}
		inner := desc[i+1 : i+1+end]
		if k, v, ok := strings.Cut(inner, "="); ok {
			out = append(out, [2]string{strings.ToUpper(strings.TrimSpace(k)), strings.TrimSpace(v)})
		}
	}
	return out
}
