package methods

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/inventory"
)

// database: {from: statefulset, user_env, password_env}: the URL from the StatefulSet's env (the
// chart's secretKeyRefs not followed, the Job's variables used), through the inventory's kubeconfig;
// without a kubernetes block, a usage error.
func TestDatabaseFromInventory(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/apis/apps/v1/namespaces/atl/statefulsets/jira" {
			http.Error(w, `{"kind":"Status","reason":"Forbidden","message":"forbidden","code":403}`, http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"kind":"StatefulSet","metadata":{"name":"jira"},"spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"jira","env":[
			{"name":"ATL_JDBC_URL","value":"jdbc:postgresql://db:5432/jira"},
			{"name":"ATL_JDBC_USER","valueFrom":{"secretKeyRef":{"name":"jira-db","key":"username"}}},
			{"name":"ATL_JDBC_PASSWORD","valueFrom":{"secretKeyRef":{"name":"jira-db","key":"password"}}}]}]}}}}`))
	}))
	defer api.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "kubeconfig"), []byte("current-context: x\nclusters:\n- name: c\n  cluster: {server: \""+api.URL+
		"\"}\ncontexts:\n- name: x\n  context: {cluster: c, namespace: atl}\n"), 0o600)
	path := filepath.Join(dir, "reauth.yaml")
	os.WriteFile(path, []byte("products:\n  - product: jira\n    database: {from: statefulset, user_env: U, password_env: P}\n"+
		"    kubernetes: {statefulset: jira, kubeconfig: kubeconfig}\n  - product: confluence\n    database: {from: statefulset}\n    nodes: [{name: a, url: \"http://127.0.0.1:1\", restart: {exec: {command: x}}}]\n"), 0o600)
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"U": "jira_app", "P": "pw-from-job"}
	db, _, err := Database(context.Background(), inv, &inv.Products[0], func(k string) string { return env[k] })
	if err != nil || db.Name != "jira" || db.User != "jira_app" || db.Password.Reveal() != "pw-from-job" {
		t.Fatalf("database = %+v, %v", db, err)
	}
	_, _, err = Database(context.Background(), inv, &inv.Products[1], os.Getenv)
	if reauth.CodeOf(err) != reauth.ExitUsage || !strings.Contains(err.Error(), "needs the product's kubernetes block") {
		t.Errorf("without kubernetes: %v", err)
	}
}
