package runbook

import (
	"strings"
	"testing"

	"github.com/reauth/reauth/inventory"
)

// "set proof_user" is the hint only where no account is named; with proof_user (or admin:) set, the
// hint says why its token proved nothing: a resumed run, or an account that does not exist.
func TestHowToProveNamesTheProofUserProblem(t *testing.T) {
	for _, tc := range []struct {
		name      string
		proofUser string
		admin     bool
		resumed   bool
		minted    *MintedProof
		want, not string
	}{
		{"no account named", "", false, false, &MintedProof{Note: "no proof_user and no admin: user in the inventory: no proof token minted"},
			"set proof_user (or admin:)", "did not prove"},
		{"resumed", "alice", false, true, nil, "a resumed run cannot replay it", "set proof_user"},
		{"resumed, admin's", "", true, true, nil, "proof token for admin", "set proof_user"},
		{"no such user", "ghost", false, false, &MintedProof{User: "ghost", Note: `no proof token: no user "ghost" in app_user`},
			`no user "ghost" in app_user`, "set proof_user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := testUnit(t, "jira", false)
			u.o = &Options{}
			u.inv = &inventory.Product{ProofUser: tc.proofUser}
			if tc.admin {
				u.inv.Admin = &inventory.Admin{User: "admin"}
			}
			u.resumed = tc.resumed
			u.report.Verify.TokensChecked = true
			u.report.Verify.Proof.Minted = tc.minted
			u.judge(true)
			how := u.report.Verify.Proof.HowToProve
			if !strings.Contains(how, tc.want) || strings.Contains(how, tc.not) {
				t.Fatalf("how to prove: %q; want %q, not %q", how, tc.want, tc.not)
			}
		})
	}
}
