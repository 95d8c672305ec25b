package inventory

import (
	"strings"
	"testing"
)

func TestParseProofFields(t *testing.T) {
	src := "products:\n  - product: bitbucket\n    home: /h\n    proof_user: ops\n    proof_cookie: \"base64({series}:{token})\"\n" +
		"    nodes: [{name: n1, url: http://127.0.0.1:1, restart: {exec: {command: x}}}]\n"
	inv, err := Parse([]byte(src), "reauth.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p := inv.Products[0]; p.ProofUser != "ops" || p.ProofCookie != "base64({series}:{token})" {
		t.Fatalf("proof_user %q proof_cookie %q", p.ProofUser, p.ProofCookie)
	}
	bad := strings.Replace(src, "base64({series}:{token})", "{user}:{token}", 1)
	if _, err := Parse([]byte(bad), "reauth.yaml"); err == nil || !strings.Contains(err.Error(), "reauth.yaml:5:") {
		t.Fatalf("a format without {id} or {series}: err = %v, want one naming line 5", err)
	}
}
