package backup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth"
)

func TestCheckPlace(t *testing.T) {
	root := t.TempDir()
	home := filepath.Join(root, "jira-home")
	shared := filepath.Join(root, "nfs", "jira-shared")
	repo := filepath.Join(root, "ops-scripts")
	for _, d := range []string{home, shared, filepath.Join(repo, ".git"), filepath.Join(repo, "sub"), filepath.Join(root, "private")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(home, "cluster.properties"), []byte("jira.node.id=n1\njira.shared.home = "+shared+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	homes := ProductHomes(home)
	cases := []struct {
		path, want string
	}{
		{filepath.Join(repo, "b.jsonl.gz"), "git work tree"},
		{filepath.Join(repo, "sub", "b.jsonl.gz"), "git work tree"},
		{filepath.Join(home, "b.jsonl.gz"), "product's home"},
		{filepath.Join(home, "export", "b.jsonl.gz"), "product's home"},
		{filepath.Join(shared, "b.jsonl.gz"), "product's home"},
		{filepath.Join(root, "private", "b.jsonl.gz"), ""},
		{filepath.Join(root, "jira-home-backups", "b.jsonl.gz"), ""}, // a sibling whose name starts like the home
	}
	for _, tc := range cases {
		err := CheckPlace(tc.path, homes, "--backup")
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.path, err)
			}
			continue
		}
		if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), tc.want) || !strings.Contains(reauth.HintOf(err), "--allow-backup-in-tree") {
			t.Errorf("%s: %v (hint %q), want a refusal naming the %s", tc.path, err, reauth.HintOf(err), tc.want)
		}
	}
}
