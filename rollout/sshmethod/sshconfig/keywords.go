package sshconfig

import "strings"

type keywordKind int

const (
	unknown   keywordKind = iota
	condition             // Host, Match
	including             // Include
	supported             // honoured by reauth
	ignored               // does not change where or how reauth connects or what it trusts
	refused               // would change the connection in a way reauth cannot follow
)

// supportedWords are the keywords reauth honours.
var supportedWords = words(`hostname user port identityfile identitiesonly userknownhostsfile stricthostkeychecking
	proxyjump connecttimeout serveraliveinterval serveralivecountmax ignoreunknown`)

// ignoredWords change nothing about the endpoint, the account, the keys or the host-key check of a
// non-interactive command: reauth lists them as not followed.
var ignoredWords = words(`addkeystoagent addressfamily batchmode checkhostip ciphers compression connectionattempts
	controlmaster controlpath controlpersist enableescapecommandline escapechar fingerprinthash forwardagent
	forwardx11 forwardx11timeout forwardx11trusted gssapiauthentication gssapidelegatecredentials hashknownhosts
	hostbasedauthentication hostbasedacceptedalgorithms hostkeyalgorithms ipqos kbdinteractiveauthentication
	kbdinteractivedevices challengeresponseauthentication kexalgorithms loglevel logverbose macs
	nohostauthenticationforlocalhost numberofpasswordprompts passwordauthentication preferredauthentications
	pubkeyacceptedalgorithms pubkeyacceptedkeytypes pubkeyauthentication rekeylimit requiredrsasize requesttty
	revokedhostkeys sendenv setenv streamlocalbindmask streamlocalbindunlink tcpkeepalive updatehostkeys
	usekeychain verifyhostkeydns visualhostkey xauthlocation globalknownhostsfile obscurekeystroketiming
	permitremoteopen casignaturealgorithms`)

// refusedWords would make the connection go elsewhere, through something else, as someone else,
// or run something on this machine: following ssh half-way would be worse than not at all.
var refusedWords = words(`proxycommand proxyusefdpass localforward remoteforward dynamicforward localcommand
	permitlocalcommand remotecommand identityagent certificatefile pkcs11provider securitykeyprovider hostkeyalias
	canonicalizehostname canonicaldomains canonicalizefallbacklocal canonicalizemaxdots canonicalizepermittedcnames
	bindaddress bindinterface knownhostscommand sessiontype stdinnull forkafterauthentication tag
	exitonforwardfailure gatewayports tunnel tunneldevice clearallforwardings channeltimeout`)

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

func kind(kw string) keywordKind {
	switch {
	case kw == "host" || kw == "match":
		return condition
	case kw == "include":
		return including
	case supportedWords[kw]:
		return supported
	case ignoredWords[kw]:
		return ignored
	case refusedWords[kw]:
		return refused
	}
	return unknown
}

// harmless reports whether a refused keyword's value leaves the connection as reauth makes it
// (CanonicalizeHostname no, PermitLocalCommand no, ClearAllForwardings yes, …): no need to refuse.
func harmless(kw string, args []string) bool {
	v := strings.ToLower(strings.Join(args, " "))
	switch kw {
	case "canonicalizehostname", "permitlocalcommand", "proxyusefdpass", "forkafterauthentication", "stdinnull",
		"exitonforwardfailure", "gatewayports":
		return v == "no" || v == "false"
	case "tunnel":
		return v == "no"
	case "clearallforwardings":
		return v == "yes" || v == "true"
	case "proxycommand", "identityagent", "remotecommand", "knownhostscommand":
		return v == "none"
	case "sessiontype":
		return v == "default"
	case "canonicaldomains", "canonicalizefallbacklocal", "canonicalizemaxdots", "canonicalizepermittedcnames",
		"channeltimeout", "tag":
		return true // only take effect with CanonicalizeHostname or Match tagged, refused themselves
	}
	return false
}
