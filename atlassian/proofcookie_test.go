package atlassian

import (
	"encoding/base64"
	"testing"
)

func TestProofCookieValue(t *testing.T) {
	jira, _ := Lookup("jira")
	if v := jira.Proof.Value(-1234, "", "abc"); v != "-1234:abc" {
		t.Fatalf("jira: %q", v)
	}
	bb, _ := Lookup("bitbucket")
	if v := bb.Proof.Value(7, "ser", "tok"); v != base64.StdEncoding.EncodeToString([]byte("ser:tok")) {
		t.Fatalf("bitbucket: %q", v)
	}
	if bb.Proof.Confirmed {
		t.Fatal("Bitbucket's cookie format is UNCONFIRMED: it must not be marked confirmed")
	}
	for _, p := range All() {
		if p.Proof.Format != "" {
			if err := CheckProofFormat(p.Proof.Format); err != nil {
				t.Errorf("%s: %v", p.ID, err)
			}
		}
	}
	if err := CheckProofFormat("{token}"); err != nil { // the cookie is the token (Crowd's crowd.token_key)
		t.Errorf("{token} refused: %v", err)
	}
	for _, bad := range []string{"", "x{token}", "{token}:", "{id}", "base64({id}:{token}", "{id}:{token};x", "{user}:{token}"} {
		if CheckProofFormat(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
