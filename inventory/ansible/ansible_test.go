package ansible

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth/internal/testenv"
)

// the variables reauth reads, and two of the fixtures' own that show the precedence.
var compared = []string{"ansible_host", "ansible_port", "ansible_user", "ansible_ssh_private_key_file", "ansible_ssh_common_args", "site", "color"}

// ansibleRun runs an Ansible command (ansible-inventory, ansible) with a private HOME.
func ansibleRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		testenv.Missing(t, name+" (Debian's ansible-core package)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "ANSIBLE_NOCOLOR=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out)
}

// TestAgreesWithAnsible reads INI and YAML inventories (children, ranges, group and host vars,
// group_vars/ and host_vars/, ansible_group_priority) and checks every group's hosts, their order
// and their variables against the real tool: the JSON ansible-inventory --list prints (read back
// by reauth) and the order ansible GROUP --list-hosts prints.
func TestAgreesWithAnsible(t *testing.T) {
	testenv.Slow(t)
	for _, src := range []string{"testdata/estate/hosts.ini", "testdata/yaml/hosts.yml"} {
		t.Run(filepath.Base(filepath.Dir(src)), func(t *testing.T) {
			ours, err := Load(src)
			if err != nil {
				t.Fatal(err)
			}
			jsonFile := filepath.Join(t.TempDir(), "list.json")
			os.WriteFile(jsonFile, []byte(ansibleRun(t, "ansible-inventory", "-i", src, "--list")), 0o600)
			theirs, err := Load(jsonFile)
			if err != nil {
				t.Fatalf("read ansible-inventory's JSON: %v", err)
			}
			for _, g := range theirs.Groups() {
				want := ansibleHosts(t, src, g)
				for _, inv := range []*Inventory{ours, theirs} {
					hosts, ok := inv.Hosts(g)
					if !ok {
						t.Errorf("%s: group %s missing", inv.Source, g)
						continue
					}
					var names []string
					for _, h := range hosts {
						names = append(names, h.Name)
					}
					if g != "all" && strings.Join(names, " ") != strings.Join(want, " ") {
						t.Errorf("%s: group %s: hosts %v, ansible --list-hosts %v", inv.Source, g, names, want)
					}
				}
			}
			all, _ := theirs.Hosts("all")
			for _, h := range all {
				mine, _ := ours.Hosts("all")
				var got map[string]string
				for _, m := range mine {
					if m.Name == h.Name {
						got = m.Vars
					}
				}
				if got == nil {
					t.Errorf("host %s missing", h.Name)
					continue
				}
				for _, k := range compared {
					if got[k] != h.Vars[k] {
						t.Errorf("%s %s = %q, ansible-inventory %q", h.Name, k, got[k], h.Vars[k])
					}
				}
			}
		})
	}
}

// ansibleHosts is what `ansible -i src GROUP --list-hosts` lists, in its order.
func ansibleHosts(t *testing.T, src, group string) []string {
	var out []string
	for _, l := range strings.Split(ansibleRun(t, "ansible", "-i", src, group, "--list-hosts"), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "hosts (") {
			out = append(out, l)
		}
	}
	return out
}
