package runbook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/inventory"
)

func TestBackupLifetime(t *testing.T) {
	install := t.TempDir()
	cfg := filepath.Join(install, "atlassian-jira", "WEB-INF", "classes", "seraph-config.xml")
	os.MkdirAll(filepath.Dir(cfg), 0o700)
	os.WriteFile(cfg, []byte(`<security-config><parameters>
  <init-param>
    <param-name>autologin.cookie.age</param-name>
    <param-value>2592000</param-value>
  </init-param></parameters></security-config>`), 0o600)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	unit := func(id string, ip inventory.Product) *unit {
		p, err := atlassian.Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		u := &unit{prod: p, inv: &ip}
		u.backupLifetime(start)
		return u
	}
	u := unit("jira", inventory.Product{Nodes: []inventory.Node{{Install: install}}})
	if b := u.report.Backup; b.UsefulUntil == nil || !b.UsefulUntil.Equal(start.Add(30*24*time.Hour)) || !strings.Contains(b.UsefulUntilNote, cfg) {
		t.Fatalf("jira with seraph-config.xml: %+v", b)
	}
	if b := unit("jira", inventory.Product{}).report.Backup; b.UsefulUntil != nil || !strings.Contains(b.UsefulUntilNote, "unknown") {
		t.Fatalf("jira without its config: %+v", b)
	}
	if b := unit("confluence", inventory.Product{}).report.Backup; b.UsefulUntil == nil || !b.UsefulUntil.Equal(start.Add(14*24*time.Hour)) {
		t.Fatalf("confluence default: %+v", b)
	}
	if b := unit("bitbucket", inventory.Product{}).report.Backup; b.UsefulUntil != nil || !strings.Contains(b.UsefulUntilNote, "expiry") {
		t.Fatalf("bitbucket: %+v", b)
	}
}
