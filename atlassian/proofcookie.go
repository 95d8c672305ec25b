package atlassian

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// ProofCookie is how one token row becomes the product's remember-me cookie, so that reauth can
// mint its own proof token and replay sampled real tokens (runbook's proof) with no password.
type ProofCookie struct {
	// Format builds the cookie value from the row: {id}, {series} and {token} stand for its
	// columns, and base64(…) around the whole value encodes it in standard Base64. "" when the
	// product's format is not known.
	Format       string
	TokenColumn  string // the column that holds the token's secret
	SeriesColumn string // Bitbucket's series column ("" where the cookie carries the id)
	// Fixed are columns a minted row must set besides id, user, token, series and time (NOT NULL
	// columns of the product's DDL), with their values.
	Fixed map[string]any
	// AlsoTime are more NOT NULL time columns a minted row sets to its creation time (Crowd's
	// last_accessed_date).
	AlsoTime []string
	// Cookie is the cookie's name when it is not the remember-me cookie (Crowd: crowd.token_key).
	Cookie string
	// Confirmed is false where the format is UNCONFIRMED: reauth then neither mints nor samples
	// unless the inventory's proof_cookie confirms (or corrects) it.
	Confirmed bool
}

// Usable reports whether cookies can be built from rows at all.
func (p ProofCookie) Usable() bool { return p.Format != "" && p.TokenColumn != "" }

// CheckProofFormat checks a format as an inventory may give it.
func CheckProofFormat(f string) error {
	inner := f
	if s, ok := strings.CutPrefix(f, "base64("); ok {
		var closed bool
		if inner, closed = strings.CutSuffix(s, ")"); !closed {
			return fmt.Errorf("proof cookie format %q: base64( without its closing parenthesis", f)
		}
	}
	if inner == "{token}" { // the cookie is the token itself (Crowd's crowd.token_key)
		return nil
	}
	if !strings.Contains(inner, "{token}") || (!strings.Contains(inner, "{id}") && !strings.Contains(inner, "{series}")) {
		return fmt.Errorf("proof cookie format %q must hold {token} and {id} or {series}, e.g. \"{id}:{token}\" or \"base64({series}:{token})\"", f)
	}
	rest := strings.NewReplacer("{id}", "", "{series}", "", "{token}", "").Replace(inner)
	if strings.ContainsAny(rest, "{}();, \"\\") {
		return fmt.Errorf("proof cookie format %q: only {id}, {series}, {token}, base64(…) and plain separators are understood", f)
	}
	return nil
}

// Value is the cookie value for a row (the format must have passed CheckProofFormat).
func (p ProofCookie) Value(id int64, series, token string) string {
	f, b64 := p.Format, false
	if s, ok := strings.CutPrefix(f, "base64("); ok {
		f, b64 = strings.TrimSuffix(s, ")"), true
	}
	v := strings.NewReplacer("{id}", strconv.FormatInt(id, 10), "{series}", series, "{token}", token).Replace(f)
	if b64 {
		return base64.StdEncoding.EncodeToString([]byte(v))
	}
	return v
}
