package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// ClusterNode is one row of Jira's clusternode table: a Data Center node as Jira registers it
// (its node id, state such as ACTIVE or OFFLINE, and address).
type ClusterNode struct {
	ID, State, IP string
}

// JiraClusterNodes reads Jira's clusternode table, in the token table's schema, for `reauth
// init`; ok is false (and no error) where there is none (Jira Server, another product). Reads
// only.
func (s *Store) JiraClusterNodes(ctx context.Context) (nodes []ClusterNode, ok bool, err error) {
	tables, schema, err := s.listTables(ctx, s.info.Schema)
	if err != nil {
		return nil, false, err
	}
	table := ""
	for _, t := range tables {
		if strings.EqualFold(t, "clusternode") {
			table = t
		}
	}
	if table == "" {
		return nil, false, nil
	}
	cols, err := s.listColumns(ctx, schema, table)
	if err != nil {
		return nil, false, err
	}
	want := []string{"node_id", "node_state", "ip"}
	q := make([]string, len(want))
	for i, w := range want {
		for _, c := range cols {
			if strings.EqualFold(c.Name, w) {
				q[i] = s.dialect.Quote(c.Name)
			}
		}
		if q[i] == "" {
			return nil, false, fmt.Errorf("table %s has no column %s", table, w)
		}
	}
	rows, err := s.sql.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM %s ORDER BY %s",
		strings.Join(q, ", "), s.dialect.Qualify(schema, table), q[0]))
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, state, ip sql.NullString
		if err := rows.Scan(&id, &state, &ip); err != nil {
			return nil, false, fmt.Errorf("read %s: %w", table, err)
		}
		nodes = append(nodes, ClusterNode{ID: id.String, State: state.String, IP: ip.String})
	}
	return nodes, true, rows.Err()
}
