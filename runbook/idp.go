package runbook

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/termsafe"
	"github.com/reauth/reauth/rollout/execmethod"
	"github.com/reauth/reauth/sqlstore"
)

// Outcomes of the inventory's idp hook (IdPReport.Hook).
const (
	IdPHookNone    = "none"   // no idp: in the inventory: the operator must end the IdP's sessions
	IdPHookOK      = "ok"     // ran and exited 0
	IdPHookFailed  = "failed" // ran and failed (IdPReport.HookError says how)
	IdPHookDryRun  = "would run"
	IdPHookPending = "pending" // runs before the purge
)

// defaultIdPTimeout bounds the idp hook when the inventory gives no timeout.
const defaultIdPTimeout = 2 * time.Minute

// IdPReport is the product's SSO identity provider, when SSO for Atlassian Data Center is on:
// ending product sessions does not end the IdP's (no single logout into Data Center was found),
// so a user with a live IdP session logs straight back in unless they are ended too.
type IdPReport struct {
	IdPs []sqlstore.IdPConfig `json:"idps"`
	// Hook is the inventory idp hook's outcome: none, ok, failed, would run.
	Hook      string `json:"hook"`
	HookError string `json:"hook_error,omitempty"`
	// Covered: the hook ended the IdP's sessions (exit 0), so not_covered leaves them out.
	Covered bool `json:"covered"`
	// ReadError says why the SSO configuration could not be read ("" when it was).
	ReadError string `json:"read_error,omitempty"`
}

// readIdP reads the product's SSO configuration (AO_ED669C_IDP_CONFIG, no secret column) and
// sets report.IdP when SSO is on or the configuration could not be read. A product without a
// database here (the orchestration tests' fakes) or without the table has no IdP section.
func (u *unit) readIdP(ctx context.Context) {
	if u.db.Engine == "" {
		return
	}
	if _, ok := atlassian.CredentialsOf(u.prod.ID); !ok {
		return
	}
	r, err := sqlstore.OpenCredentials(ctx, u.db, sqlstore.Options{ConnectTimeout: u.o.ConnectTimeout})
	var sso sqlstore.SSOStatus
	if err == nil {
		r.SetPATTable(u.inv.PATTable)
		var creds sqlstore.CredentialReport
		creds, err = r.ReadCredentials(ctx, u.prod, time.Time{})
		r.Close()
		sso = creds.SSO
		if err == nil {
			// They outlive the run: the report says how many, by kind (revoking them is separate).
			u.report.Credentials = creds.Counts
		}
	}
	hook := IdPHookNone
	switch {
	case u.inv.IdP != nil && u.o.DryRun:
		hook = IdPHookDryRun
	case u.inv.IdP != nil:
		hook = IdPHookPending
	}
	switch {
	case err != nil:
		u.report.IdP = &IdPReport{IdPs: []sqlstore.IdPConfig{}, Hook: hook, ReadError: err.Error()}
	case sso.On:
		var on []sqlstore.IdPConfig
		for _, c := range sso.IdPs {
			if c.Enabled {
				on = append(on, c)
			}
		}
		u.report.IdP = &IdPReport{IdPs: on, Hook: hook}
	}
}

// printIdP is the plan's line for the IdP: which one, the exact call, and whether the hook runs it.
func (u *unit) printIdP(w io.Writer) {
	r := u.report.IdP
	if r == nil {
		return
	}
	if r.ReadError != "" {
		fmt.Fprintf(w, "   idp        the SSO configuration could not be read (%s): end the identity provider's sessions yourself\n", termsafe.Text(r.ReadError))
		return
	}
	for _, c := range r.IdPs {
		fmt.Fprintf(w, "   idp        SSO is on: %s %q, issuer %s (looks like %s); its sessions outlive this run's, and log users straight back in\n",
			termsafe.Text(c.Type), termsafe.Text(c.Name), termsafe.Text(c.Issuer), c.IdP.Family)
		fmt.Fprintf(w, "              end them: %s\n", termsafe.Text(c.IdP.EndAll))
	}
	if u.inv.IdP != nil {
		fmt.Fprintf(w, "              the inventory's idp hook runs before the purge, without reauth's secrets in its environment\n")
	} else {
		fmt.Fprintf(w, "              no idp hook in the inventory (idp: {command: ...}): run that call yourself\n")
	}
}

// idpStep runs the inventory's idp hook before the purge, so that nobody logs silently back in
// through the IdP once the product's sessions are gone. Its environment is reauth's without the
// variables reauth read secrets from (execmethod.Env, as the drain hooks get), plus REAUTH_PRODUCT,
// REAUTH_IDP_FAMILY, REAUTH_IDP_ISSUER and REAUTH_IDP_CALL. Its output is not kept: it may carry
// the IdP's own credentials. A failure is a warning: the product's sessions still end.
func (u *unit) idpStep(ctx context.Context) {
	if len(u.report.Credentials) > 0 {
		u.step("credentials", "listed", map[string]any{"counts": u.report.Credentials})
	}
	r, h := u.report.IdP, u.inv.IdP
	if r == nil {
		return
	}
	fields := map[string]any{}
	if len(r.IdPs) > 0 {
		c := r.IdPs[0]
		fields = map[string]any{"family": string(c.IdP.Family), "issuer": c.Issuer, "call": c.IdP.EndAll}
	}
	if r.ReadError != "" {
		fields["error"] = r.ReadError
	}
	if h == nil {
		u.step("idp", IdPHookNone, fields)
		return
	}
	set := []string{"REAUTH_PRODUCT=" + string(u.prod.ID)}
	if len(r.IdPs) > 0 {
		c := r.IdPs[0]
		set = append(set, "REAUTH_IDP_FAMILY="+string(c.IdP.Family), "REAUTH_IDP_ISSUER="+c.Issuer, "REAUTH_IDP_CALL="+c.IdP.EndAll)
	}
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = defaultIdPTimeout
	}
	err := execmethod.RunShell(ctx, h.Command, execmethod.Env{Drop: u.rplan.SecretEnv, Set: set}, timeout, io.Discard)
	if err != nil {
		r.Hook, r.HookError = IdPHookFailed, err.Error()
		w := fmt.Errorf("%s: the idp hook failed (%v): the identity provider's sessions were NOT ended; end them yourself", u.name, err)
		fmt.Fprintf(u.o.Err, "warning: %v\n", w)
		u.report.Warnings = append(u.report.Warnings, w.Error())
		fields["error"] = err.Error()
		u.step("idp", IdPHookFailed, fields)
		return
	}
	r.Hook, r.Covered = IdPHookOK, true
	u.step("idp", IdPHookOK, fields)
}

// idpNotCovered is the not_covered entry for identity-provider sessions: "" when every product
// with SSO on had them ended by its hook and every SSO configuration was read; the products and
// calls left otherwise.
func idpNotCovered(units []*unit) (string, bool) {
	var left []string
	unknown := false
	for _, u := range units {
		r := u.report.IdP
		switch {
		case r == nil:
			if u.db.Engine == "" {
				unknown = true // not read (no database here)
			}
		case r.ReadError != "":
			unknown = true
		case !r.Covered:
			for _, c := range r.IdPs {
				left = append(left, fmt.Sprintf("%s (%s, %s): %s", u.name, c.IdP.Family, c.Issuer, c.IdP.EndAll))
			}
		}
	}
	switch {
	case len(left) > 0:
		return "sessions at the SSO identity provider, which log users straight back in: " + strings.Join(left, "; ") +
			" (or set idp: {command: ...} in the inventory)", true
	case unknown:
		return "", false // the generic entry stays
	}
	return "", true
}

// summary is the report's line for the IdP ("" when there is none).
func (r *IdPReport) summary() string {
	if r == nil {
		return ""
	}
	if r.ReadError != "" {
		return "the SSO configuration could not be read: end the identity provider's sessions yourself"
	}
	var names []string
	for _, c := range r.IdPs {
		names = append(names, fmt.Sprintf("%s (%s)", c.IdP.Family, c.Issuer))
	}
	idp := strings.Join(names, ", ")
	switch r.Hook {
	case IdPHookOK:
		return "SSO is on, " + idp + ": the idp hook ended its sessions"
	case IdPHookFailed:
		return "SSO is on, " + idp + ": the idp hook FAILED (" + r.HookError + "): its sessions were not ended"
	}
	return "SSO is on, " + idp + ": its sessions were not ended (see not covered)"
}
