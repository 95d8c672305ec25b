package kube

import (
	"fmt"
	"strconv"
	"strings"
)

// identifies refuses a context that gives kubectl nothing to identify its user with on an https
// server (client-go's canIdentifyUser: a token or token file, a client certificate, a username, an
// exec or auth-provider plugin). kubectl would ask for a user name there, and fail without a
// terminal; reauth used to send anonymous requests and blame the credentials on the 401.
func (k *kubeconfig) identifies(rc *restConfig, u *kcUser, userName string) error {
	if base, err := serverURL(rc.Server); err != nil || base.Scheme != "https" {
		return nil // no credentials are sent to a plain-http server (kubectl proxy)
	}
	if u.Token != "" || u.TokenFile != "" || len(rc.CertData) > 0 || u.Username != "" || u.Exec != nil || u.AuthProvider != nil {
		return nil
	}
	const give = "kubectl would ask for a user name (and fail without a terminal); reauth refuses rather than send anonymous requests: "
	if userName == "" {
		return fmt.Errorf("the context names no user (no user:): %sadd user: to the context, naming a user with a token, tokenFile, client-certificate + client-key, username/password or exec plugin", give)
	}
	var found []string
	for _, f := range []struct{ key, val string }{{"password", u.Password}, {"as", u.As}, {"as-uid", u.AsUID}} {
		if f.val != "" {
			found = append(found, f.key)
		}
	}
	if len(u.AsGroups) > 0 {
		found = append(found, "as-groups")
	}
	if len(u.AsUserExtra) > 0 {
		found = append(found, "as-user-extra")
	}
	if unknown := k.unknown["users/"+userName]; len(unknown) > 0 {
		found = append(found, describeUnknown(unknown))
	}
	keys := "no keys found"
	if len(found) > 0 {
		keys = "keys found: " + strings.Join(found, ", ")
	}
	return fmt.Errorf("no credentials for user %q (%s): %sgive the user a token, tokenFile, client-certificate + client-key, username + password or an exec plugin",
		userName, keys, give)
}

// unknownHint is what an error about the chosen context, cluster or user adds when those blocks
// hold keys kubectl does not know: a misspelled key is the likely cause of a missing value.
func (k *kubeconfig) unknownHint(kctx *kcContext) string {
	var keys []unknownKey
	for _, entry := range []string{"clusters/" + kctx.Cluster, "users/" + kctx.User} {
		keys = append(keys, k.unknown[entry]...)
	}
	if len(keys) == 0 {
		return ""
	}
	return " (keys kubectl does not know there: " + describeUnknown(keys) + ")"
}

// warnings name what reauth read but is probably not what was meant: keys no kubeconfig type has,
// in the top level and the chosen context, cluster and user (kubectl ignores them silently), and
// credentials that are not sent because the server is plain http.
func (k *kubeconfig) warnings(rc *restConfig, contextName string, kctx *kcContext, u *kcUser) []string {
	var out []string
	for _, entry := range []string{"", "contexts/" + contextName, "clusters/" + kctx.Cluster, "users/" + kctx.User} {
		for _, key := range k.unknown[entry] {
			name := shownKey(key.key)
			if name == key.key {
				name = strconv.Quote(name)
			}
			w := fmt.Sprintf("kubeconfig %s line %d: %s: %s is not a kubeconfig key", key.file, key.line, key.at, name)
			if s := suggest(key.key, key.known); s != "" {
				w += " (did you mean " + s + "?)"
			}
			out = append(out, w+"; kubectl and reauth ignore it")
		}
	}
	base, err := serverURL(rc.Server)
	if err == nil && base.Scheme == "http" && (u.Token != "" || u.TokenFile != "" || len(rc.CertData) > 0 || u.Username != "" || u.Exec != nil) {
		out = append(out, fmt.Sprintf("kubeconfig: context %q: the server is plain http://, so the user's credentials are not sent (as with kubectl)", contextName))
	}
	return out
}
