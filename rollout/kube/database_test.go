package kube

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/inventory"
)

func dbSecret(name string) *corev1.Secret {
	return &corev1.Secret{TypeMeta: metav1.TypeMeta{Kind: "Secret", APIVersion: "v1"}, ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Data: map[string][]byte{"username": []byte("jira_app"), "password": []byte("pw-from-secret")}}
}

func (fc *fakeCluster) secretReads() int {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	n := 0
	for _, c := range fc.calls {
		if c.Resource == "secrets" {
			n++
		}
	}
	return n
}

// database: {from: statefulset}: the URL from the chart's env (Confluence's &amp; undone), the user
// and password from the Secret its secretKeyRefs name, or from the inventory's references without
// reading the Secret; without the right to read it, a refusal that prints the secretKeyRef snippet
// and the Role rule, and never a value.
func TestDatabaseFromStatefulSet(t *testing.T) {
	ctx := context.Background()
	fc := startFakeCluster(t, helmStatefulSet(t, "jira-prod-ondelete-ordinal1.yaml"), 0)
	fc.secrets = map[string]*corev1.Secret{"jira-db": dbSecret("jira-db")}
	db, notes, err := Database(ctx, fc.client(t), ns, "prod", jira(t), DatabaseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if db.Engine != reauth.Postgres || db.Host != "db" || db.Port != 5432 || db.Name != "jira" || db.User != "jira_app" || db.Password.Reveal() != "pw-from-secret" {
		t.Errorf("database = %+v", db)
	}
	if n := strings.Join(notes, "\n"); !strings.Contains(n, "database from the env of statefulset atlassian/prod-jira (container jira): ATL_JDBC_URL, ATL_DB_TYPE postgres72") {
		t.Errorf("notes:\n%s", n)
	}

	fc = startFakeCluster(t, helmStatefulSet(t, "confluence.yaml"), 0)
	fc.forbidden = map[string]bool{"secrets": true}
	_, _, err = Database(ctx, fc.client(t), ns, "confluence", confluence(t), DatabaseOptions{})
	said := err.Error() + " " + reauth.HintOf(err)
	for _, w := range []string{"Secret confluence-db, which reauth could not read", "is forbidden",
		"- {name: REAUTH_DB_USER, valueFrom: {secretKeyRef: {name: confluence-db, key: username}}}",
		"- {name: REAUTH_DB_PASSWORD, valueFrom: {secretKeyRef: {name: confluence-db, key: password}}}",
		"user_env: REAUTH_DB_USER, password_env: REAUTH_DB_PASSWORD", `resources: ["secrets"], verbs: ["get"], resourceNames: [confluence-db]`} {
		if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(said, w) {
			t.Errorf("%s\nwant it to say %q", said, w)
		}
	}
	before := fc.secretReads()
	db, _, err = Database(ctx, fc.client(t), ns, "confluence", confluence(t),
		DatabaseOptions{User: reauth.NewSecret("conf"), Password: reauth.NewSecret("pw-from-job")})
	if err != nil || db.Params["sslmode"] != "require" || db.Name != "confluence" || db.User != "conf" || db.Password.Reveal() != "pw-from-job" {
		t.Errorf("with the Job's references: %+v, %v", db, err)
	}
	if n := fc.secretReads() - before; n != 0 {
		t.Errorf("%d Secret reads: the inventory's references make them unneeded", n)
	}

	fc = startFakeCluster(t, helmStatefulSet(t, "crowd.yaml"), 0)
	_, _, err = Database(ctx, fc.client(t), ns, "crowd", product(t, "crowd"), DatabaseOptions{})
	if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(reauth.HintOf(err), "mount the shared home read-only") {
		t.Errorf("crowd: %v (%s)", err, reauth.HintOf(err))
	}
}

// The example Job hands reauth the same Secret keys the Jira chart gives Jira (release "jira",
// database.credentials.secretName=jira-db): with its inventory, the database comes from the
// served StatefulSet and the Job's variables, and the Secret is never read (the Role has no
// secrets rule).
func TestExampleJobDatabaseMatchesChart(t *testing.T) {
	var job struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						Env []struct {
							Name      string `yaml:"name"`
							ValueFrom struct {
								SecretKeyRef struct{ Name, Key string } `yaml:"secretKeyRef"`
							} `yaml:"valueFrom"`
						} `yaml:"env"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	data, err := os.ReadFile(exampleManifest)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for job.Kind != "Job" {
		if err := dec.Decode(&job); err != nil {
			t.Fatalf("no Job in %s: %v", exampleManifest, err)
		}
	}
	refs := map[string]string{}
	for _, e := range job.Spec.Template.Spec.Containers[0].Env {
		refs[e.Name] = e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
	}
	sts := helmStatefulSet(t, "jira.yaml")
	chart := map[string]string{}
	for _, e := range sts.Spec.Template.Spec.Containers[0].Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			chart[e.Name] = e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		}
	}
	if refs["REAUTH_DB_USER"] != chart["ATL_JDBC_USER"] || refs["REAUTH_DB_PASSWORD"] != chart["ATL_JDBC_PASSWORD"] {
		t.Errorf("the Job's Secret refs %v, the chart's %v", refs, chart)
	}
	inv, err := inventory.Parse([]byte(readManifest(t)["ConfigMap"].Data["reauth.yaml"]), "/var/lib/reauth/reauth.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ip := inv.Products[0]
	if ip.Database == nil || ip.Database.From != inventory.DatabaseFromStatefulSet || ip.Database.UserRef.Env != "REAUTH_DB_USER" || ip.Database.Password.Env != "REAUTH_DB_PASSWORD" {
		t.Fatalf("the example's database: %+v", ip.Database)
	}
	fc := startFakeCluster(t, sts, 0)
	fc.forbidden = map[string]bool{"secrets": true}
	db, _, err := Database(context.Background(), fc.client(t), ns, ip.Kubernetes.StatefulSet, jira(t),
		DatabaseOptions{User: reauth.NewSecret("jira_app"), Password: reauth.NewSecret("pw")})
	if err != nil || db.Host != "db" || db.Name != "jira" || fc.secretReads() != 0 {
		t.Errorf("database %+v, %v, %d Secret reads", db, err, fc.secretReads())
	}
}
