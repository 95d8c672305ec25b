package atlassian

import (
	"path"
	"strconv"
	"strings"
)

// Crowd SSO in an application's install. An application signs its users in through Crowd's SSO
// cookie (crowd.token_key) when its seraph-config.xml names a Crowd SSO authenticator:
//   - Jira: com.atlassian.jira.security.login.SSOSeraphAuthenticator ("Integrating Crowd with
//     Jira", step 2.2);
//   - Confluence: com.atlassian.confluence.user.ConfluenceCrowdSSOAuthenticator ("Integrating
//     Crowd with Confluence");
//   - older Crowd-supplied ones: com.atlassian.crowd.integration.seraph.* (JIRAAuthenticator,
//     ConfluenceAuthenticator, v22/v25…: Crowd 1.x/2.x "Troubleshooting SSO with Crowd").
//
// Other products' class names are UNCONFIRMED: any authenticator whose name says CrowdSSO is
// taken as one (a false "yes" costs a warning; a false "no" would leave a gap unsaid), and the
// inventory's sso: crowd|none decides where detection cannot.
var crowdSSOAuthenticators = []string{
	"com.atlassian.jira.security.login.SSOSeraphAuthenticator",
	"com.atlassian.confluence.user.ConfluenceCrowdSSOAuthenticator",
}

// IsCrowdSSOAuthenticator reports whether a Seraph authenticator class is one of Crowd's SSO
// authenticators.
func IsCrowdSSOAuthenticator(class string) bool {
	class = strings.TrimSpace(class)
	for _, c := range crowdSSOAuthenticators {
		if class == c {
			return true
		}
	}
	return strings.HasPrefix(class, "com.atlassian.crowd.integration.seraph.") || strings.Contains(class, "CrowdSSO")
}

// SeraphAuthenticator reads the <authenticator class="…"> of a seraph-config.xml ("" when it has
// none). A commented-out authenticator does not count.
func SeraphAuthenticator(data []byte) (string, error) {
	root, _, err := parseXMLTolerant(data)
	if err != nil {
		return "", err
	}
	for _, a := range root.findAll("authenticator", nil) {
		if c, ok := a.attr("class"); ok && strings.TrimSpace(c) != "" {
			return strings.TrimSpace(c), nil
		}
	}
	return "", nil
}

// CrowdProperties is the crowd.properties beside the application's seraph-config.xml (the Crowd
// client configuration "Integrating Crowd with Jira" tells admins to copy into WEB-INF/classes),
// relative to the install directory; "" where the product has no seraph-config.xml.
func (p Product) CrowdProperties() string {
	if p.SeraphConfig == "" {
		return ""
	}
	return path.Join(path.Dir(p.SeraphConfig), "crowd.properties")
}

// CrowdValidationInterval reads session.validationinterval from a crowd.properties: the minutes
// between the application's checks that a Crowd SSO session is still valid (0: every request).
// ok is false when the file does not set it.
func CrowdValidationInterval(data []byte) (minutes int, ok bool) {
	props, err := ParseProperties(data)
	if err != nil {
		return 0, false
	}
	v, found := props["session.validationinterval"]
	if !found {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
