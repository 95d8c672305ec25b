package sandbox

import (
	"encoding/xml"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/reauth/reauth/atlassian"
)

// writeSeraphConfig writes the node's WEB-INF/classes/seraph-config.xml (Seraph products only),
// shaped like the one the products ship, with login.cookie.key set to the product's default.
// An admin may rename the cookie there; the node reads it at start, as the product does.
//
// With crowdSSO the file names Crowd's SSO authenticator (Jira's; "Integrating Crowd with Jira")
// and a crowd.properties sits beside it, as an admin sets Crowd SSO up: what reauth detects.
func writeSeraphConfig(install string, p atlassian.Product, crowdSSO bool) error {
	if p.SeraphConfig == "" {
		return nil
	}
	auth := ""
	if crowdSSO {
		auth = "    <authenticator class=\"com.atlassian.jira.security.login.SSOSeraphAuthenticator\"/>\n"
		if p.ID == atlassian.Confluence {
			auth = "    <authenticator class=\"com.atlassian.confluence.user.ConfluenceCrowdSSOAuthenticator\"/>\n"
		}
		props := "application.name=" + string(p.ID) + "\ncrowd.base.url=http://127.0.0.1:8095/crowd/\nsession.validationinterval=2\n"
		if err := os.MkdirAll(filepath.Join(install, filepath.FromSlash(path.Dir(p.SeraphConfig))), 0o755); err != nil {
			return err
		}
		if err := writeFile(filepath.Join(install, filepath.FromSlash(p.CrowdProperties())), []byte(props), 0o600); err != nil {
			return err
		}
	}
	path := filepath.Join(install, filepath.FromSlash(p.SeraphConfig))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	body := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<security-config>
    <parameters>
        <init-param>
            <param-name>login.url</param-name>
            <param-value>%s?os_destination=${originalurl}</param-value>
        </init-param>
        <init-param>
            <param-name>login.cookie.key</param-name>
            <param-value>%s</param-value>
        </init-param>
        <!-- This property sets the default remember me cookie max age in seconds.  It is currently set to 2 weeks -->
        <init-param>
            <param-name>autologin.cookie.age</param-name>
            <param-value>1209600</param-value>
        </init-param>
    </parameters>
%s</security-config>
`, p.Login.Path, p.RememberMeCookie, auth)
	return writeFile(path, []byte(body), 0o644)
}

// seraphCookieName reads login.cookie.key from the node's seraph-config.xml ("" when the product
// has none, or the file does not set it).
func seraphCookieName(install string, p atlassian.Product) (string, error) {
	if p.SeraphConfig == "" {
		return "", nil
	}
	b, err := os.ReadFile(filepath.Join(install, filepath.FromSlash(p.SeraphConfig)))
	if os.IsNotExist(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var doc struct {
		Params []struct {
			Name  string `xml:"param-name"`
			Value string `xml:"param-value"`
		} `xml:"parameters>init-param"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return "", fmt.Errorf("read %s: %w", p.SeraphConfig, err)
	}
	for _, prm := range doc.Params {
		if strings.TrimSpace(prm.Name) == "login.cookie.key" {
			return strings.TrimSpace(prm.Value), nil
		}
	}
	return "", nil
}
