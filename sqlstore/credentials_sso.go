package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/backup"
)

// readSSO reads the SSO for Atlassian Data Center configuration (AO_ED669C_IDP_CONFIG): the
// non-secret columns only (CLIENT_SECRET and SIGNING_CERT are never selected).
func (r *CredentialReader) readSSO(ctx context.Context, since time.Time) (SSOStatus, error) {
	out := SSOStatus{IdPs: []IdPConfig{}}
	t := atlassian.IdPConfigTable
	table := r.realTable(t.Name)
	if table == "" {
		return out, nil
	}
	out.Found = true
	cols, err := r.columns(ctx, table)
	if err != nil {
		return out, err
	}
	want := []string{t.ID, t.NameCol, t.Enabled, t.SSOType, t.Issuer, t.RememberMe, t.LastUpdated}
	var read []string
	idx := map[string]int{}
	for _, w := range want {
		if c := colOf(cols, w); c != "" {
			idx[w] = len(read)
			read = append(read, c)
		}
	}
	if _, ok := idx[t.ID]; !ok {
		return out, fmt.Errorf("read %s: no %s column (found: %s)", table, t.ID, strings.Join(colNames(cols), ", "))
	}
	rows, err := r.sql.QueryContext(ctx, credentialSelect(r.d, r.schema, table, read, read[idx[t.ID]]))
	if err != nil {
		return out, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	vals := make([]any, len(read))
	ptrs := make([]any, len(read))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	get := func(c string) any {
		if i, ok := idx[c]; ok {
			return vals[i]
		}
		return nil
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return out, fmt.Errorf("read %s: %w", table, err)
		}
		c := IdPConfig{Name: asString(get(t.NameCol)), Enabled: isActive(get(t.Enabled)), Type: strings.ToUpper(asString(get(t.SSOType))),
			Issuer: asString(get(t.Issuer)), RememberMe: isActive(get(t.RememberMe))}
		c.IdP = atlassian.IdentityProviderOf(c.Issuer)
		if v := get(t.LastUpdated); v != nil {
			if lu, err := columnTime(v, kindOfCol(cols, colOf(cols, t.LastUpdated))); err == nil && lu != nil {
				c.LastUpdated = lu
				c.ChangedInWindow = !since.IsZero() && !lu.Before(since)
			}
		}
		out.On = out.On || c.Enabled
		if c.ChangedInWindow {
			out.Alarm = strings.TrimPrefix(out.Alarm+"; ", "; ") + fmt.Sprintf("the SSO configuration %q changed inside the window (%s): check its issuer and endpoints before trusting any login through it",
				c.Name, c.LastUpdated.Format(time.RFC3339))
		}
		out.IdPs = append(out.IdPs, c)
	}
	return out, rows.Err()
}

// columnTime reads a time column by its real type: epoch ms in an integer column (OAuth 2.0
// CREATED_AT; LAST_UPDATED in some versions), else a timestamp.
func columnTime(v any, k backup.Kind) (*time.Time, error) {
	if k == backup.KindInt {
		ms, ok, err := toInt(v)
		if err != nil || !ok {
			return nil, err
		}
		t := time.UnixMilli(ms).UTC()
		return &t, nil
	}
	t, ok, err := toTime(v)
	if err != nil || !ok {
		return nil, err
	}
	t = t.UTC()
	return &t, nil
}

// ReadSSO reads only the SSO configuration, with no window (what a run's plan needs).
func (r *CredentialReader) ReadSSO(ctx context.Context) (SSOStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	return r.readSSO(ctx, time.Time{})
}
