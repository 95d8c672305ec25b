package kube

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

// Atlassian's charts give the image its database in the StatefulSet's env: the URL and type as
// values (ATL_JDBC_URL, ATL_DB_TYPE; Bitbucket's JDBC_URL), user and password as secretKeyRefs
// to database.credentials.secretName. That env is the chart's intent: the image writes it into
// dbconfig.xml (or its product's file) on the first start only, and the file wins afterwards, so
// a database moved by hand in the file is not seen here. Crowd's chart has no database env: for
// Crowd mount the shared home read-only and use home:.

// DatabaseOptions say where the user and password come from when not from the Secret.
type DatabaseOptions struct {
	User, Password reauth.Secret // already resolved from user_env/user_file, password_env/password_file
}

// Database reads the product's database from the StatefulSet's env: the URL (with the Confluence
// chart's &amp; undone, as for the images' env), the user and password from opts or else from the
// Secret the env names (a `get secrets` rule limited by resourceNames). Without that right, the
// refusal prints the secretKeyRef snippet that hands them to the Job instead.
func Database(ctx context.Context, client *Client, namespace, statefulset string, p atlassian.Product, opts DatabaseOptions) (reauth.Database, []string, error) {
	sts, notes, err := statefulSet(ctx, client, namespace, statefulset)
	if err != nil {
		return reauth.Database{}, nil, err
	}
	c := productContainer(&sts.Spec.Template.Spec, string(p.ID))
	pre := p.EnvJDBCPrefix
	where := fmt.Sprintf("statefulset %s/%s", namespace, sts.Metadata.Name)
	env := map[string]EnvVar{}
	if c != nil {
		where += " (container " + c.Name + ")"
		for _, e := range c.Env {
			env[e.Name] = e
		}
	}
	url := strings.TrimSpace(env[pre+"URL"].Value)
	if pre == "" || url == "" {
		hint := "give database: {jdbc_url, user, password_file} in the inventory"
		if p.ID == atlassian.Crowd {
			hint = "Crowd's chart has no database env: mount the shared home read-only into the Job and use home:"
		}
		return reauth.Database{}, nil, reauth.Refused(hint, "database from %s: its env has no %sURL value", where, pre)
	}
	db, urlNotes, err := atlassian.ParseJDBCURLNotes(strings.ReplaceAll(url, "&amp;", "&"))
	if err != nil {
		return db, nil, reauth.Refused("fix the chart's database.url, or give database: {jdbc_url: …} in the inventory", "database from %s: %sURL: %v", where, pre, err)
	}
	notes = append(notes, urlNotes...)
	notes = append(notes, fmt.Sprintf("database from the env of %s: %sURL%s (the chart's intent: the product's own config file, written from it on the first start, wins if changed since)",
		where, pre, dbType(env)))
	user, pw := opts.User.Reveal(), opts.Password
	var missing []EnvVar
	var why error
	for _, v := range []struct {
		name string
		set  bool
		put  func(string)
	}{
		{pre + "USER", user != "", func(s string) { user = s }},
		{pre + "PASSWORD", !pw.IsZero(), func(s string) { pw = reauth.NewSecret(s) }},
	} {
		e, ok := env[v.name]
		switch {
		case v.set:
		case ok && e.ValueFrom == nil:
			v.put(e.Value)
		case ok && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			s, err := secretKey(ctx, client, namespace, e.ValueFrom.SecretKeyRef)
			if err != nil {
				missing, why = append(missing, e), err
				continue
			}
			v.put(s)
		}
	}
	if len(missing) > 0 {
		return db, nil, secretRefused(namespace, where, missing, why)
	}
	db.User, db.Password = user, pw
	if !pw.IsZero() {
		db.PasswordSource = "the Secret or reference the StatefulSet names"
		if !opts.Password.IsZero() {
			db.PasswordSource = "inventory reference"
		}
	}
	return db, notes, nil
}

func dbType(env map[string]EnvVar) string {
	if t := env["ATL_DB_TYPE"].Value; t != "" {
		return ", ATL_DB_TYPE " + t
	}
	return ""
}

// secretKey reads one key of a Secret (GET /api/v1/namespaces/{ns}/secrets/{name}).
func secretKey(ctx context.Context, client *Client, namespace string, ref *KeySelector) (string, error) {
	var s struct {
		Data map[string][]byte `json:"data"` // base64 in JSON, decoded by encoding/json
	}
	if err := client.do(ctx, http.MethodGet, client.url("api/v1", namespace, "secrets", ref.Name), nil, &s); err != nil {
		return "", err
	}
	v, ok := s.Data[ref.Key]
	if !ok {
		return "", fmt.Errorf("secret %s has no key %s", ref.Name, ref.Key)
	}
	return string(v), nil
}

// secretRefused is the refusal when the Secret could not be read: the two ways to give the
// credentials, with the exact names (never the values).
func secretRefused(namespace, where string, refs []EnvVar, why error) error {
	var snippet, names []string
	var rule []string
	for _, e := range refs {
		k := e.ValueFrom.SecretKeyRef
		as := "REAUTH_DB_PASSWORD"
		key := "password_env"
		if strings.HasSuffix(e.Name, "USER") {
			as, key = "REAUTH_DB_USER", "user_env"
		}
		snippet = append(snippet, fmt.Sprintf("- {name: %s, valueFrom: {secretKeyRef: {name: %s, key: %s}}}", as, k.Name, k.Key))
		names = append(names, fmt.Sprintf("%s: %s", key, as))
		rule = append(rule, k.Name)
	}
	hint := fmt.Sprintf("either hand them to the Job: add to its container's env\n  %s\nand to database: in the inventory %s; "+
		"or allow reauth to read the Secret: a Role rule {apiGroups: [\"\"], resources: [\"secrets\"], verbs: [\"get\"], resourceNames: [%s]} in namespace %s",
		strings.Join(snippet, "\n  "), strings.Join(names, ", "), strings.Join(dedupe(rule), ", "), namespace)
	return reauth.Refused(hint, "database from %s: the user and password are in Secret %s, which reauth could not read (%v)",
		where, strings.Join(dedupe(rule), ", "), why)
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
