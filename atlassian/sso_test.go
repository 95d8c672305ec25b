package atlassian

import "testing"

// TestCrowdSSODetection: the authenticator of a real seraph-config.xml shape, a commented-out SSO
// authenticator (the shipped file has one) that must not count, and crowd.properties' interval.
func TestCrowdSSODetection(t *testing.T) {
	const shipped = `<security-config>
  <parameters><init-param><param-name>login.cookie.key</param-name><param-value>seraph.rememberme.cookie</param-value></init-param></parameters>
  <!-- CROWD:START - The authenticator below here will need to be commented out for Crowd SSO integration.-->
  <authenticator class="com.atlassian.jira.security.login.JiraSeraphAuthenticator"/>
  <!-- CROWD:END -->
  <!-- CROWD:START - If enabling Crowd SSO integration uncomment the following SSOSeraphAuthenticator and comment out the JiraSeraphAuthenticator above. Do NOT enable both. -->
  <!--<authenticator class="com.atlassian.jira.security.login.SSOSeraphAuthenticator"/>-->
  <!-- CROWD:END -->
</security-config>`
	c, err := SeraphAuthenticator([]byte(shipped))
	if err != nil || c != "com.atlassian.jira.security.login.JiraSeraphAuthenticator" || IsCrowdSSOAuthenticator(c) {
		t.Fatalf("shipped file: %q, %v (sso %v)", c, err, IsCrowdSSOAuthenticator(c))
	}
	sso := `<security-config><!--<authenticator class="com.atlassian.jira.security.login.JiraSeraphAuthenticator"/>-->
  <authenticator class="com.atlassian.jira.security.login.SSOSeraphAuthenticator"/></security-config>`
	if c, err := SeraphAuthenticator([]byte(sso)); err != nil || !IsCrowdSSOAuthenticator(c) {
		t.Fatalf("sso file: %q, %v", c, err)
	}
	for class, want := range map[string]bool{
		"com.atlassian.confluence.user.ConfluenceCrowdSSOAuthenticator": true,
		"com.atlassian.crowd.integration.seraph.v25.JIRAAuthenticator":  true,
		"com.atlassian.confluence.user.ConfluenceAuthenticator":         false,
		"com.atlassian.seraph.auth.DefaultAuthenticator":                false,
		"": false,
	} {
		if IsCrowdSSOAuthenticator(class) != want {
			t.Errorf("IsCrowdSSOAuthenticator(%q) != %v", class, want)
		}
	}
	if n, ok := CrowdValidationInterval([]byte("application.name=jira\nsession.validationinterval = 2\n")); !ok || n != 2 {
		t.Fatalf("interval %d %v", n, ok)
	}
	if _, ok := CrowdValidationInterval([]byte("application.name=jira\n")); ok {
		t.Fatal("interval found in a file without it")
	}
	p, _ := Lookup("jira")
	if p.CrowdProperties() != "atlassian-jira/WEB-INF/classes/crowd.properties" {
		t.Fatalf("jira crowd.properties at %q", p.CrowdProperties())
	}
}
