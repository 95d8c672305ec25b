package backup

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/reauth/reauth"
)

// CheckPlace refuses a backup path where the file would be copied or published with other
// files: inside a git work tree (one `git add -A` from a repository), or inside one of homes (the
// product's home or shared home: other nodes, and the product's own backups, copy them). flag
// names the setting to change in the hint (--backup, or the inventory's backup_dir).
func CheckPlace(path string, homes []string, flag string) error {
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	hint := "write backups to a private place: leave " + flag + " out (they then go to reauth's state directory, 0700), " +
		"or name a directory outside it; to keep it there anyway, give --backup FILE with --allow-backup-in-tree"
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return reauth.Refused(hint, "backup %s would be inside the git work tree %s: the file holds live login tokens, one 'git add -A' away from a repository", path, d)
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	for _, h := range homes {
		if h == "" {
			continue
		}
		hd, err := filepath.Abs(h)
		if err != nil {
			continue
		}
		if real, err := filepath.EvalSymlinks(hd); err == nil {
			hd = real
		}
		if dir == hd || strings.HasPrefix(dir, hd+string(filepath.Separator)) {
			return reauth.Refused(hint, "backup %s would be inside the product's home %s, which other nodes and the product's own backups copy: the file holds live login tokens", path, h)
		}
	}
	return nil
}

// ProductHomes is the home directory and the shared homes it names or holds: Jira's
// cluster.properties jira.shared.home; Confluence's confluence.cfg.xml confluence.cluster.home
// or shared-home (UNCONFIRMED key names: both are read); the shared/ directory Bitbucket and
// others keep inside the home.
func ProductHomes(home string) []string {
	if home == "" {
		return nil
	}
	out := []string{home, filepath.Join(home, "shared"), filepath.Join(home, "shared-home")}
	if b, err := readSmall(filepath.Join(home, "cluster.properties")); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), "=")
			if ok && strings.TrimSpace(k) == "jira.shared.home" && strings.TrimSpace(v) != "" {
				out = append(out, strings.TrimSpace(v))
			}
		}
	}
	if b, err := readSmall(filepath.Join(home, "confluence.cfg.xml")); err == nil {
		for _, m := range confluenceShared.FindAllSubmatch(b, -1) {
			out = append(out, strings.TrimSpace(string(m[1])))
		}
	}
	return out
}

var confluenceShared = regexp.MustCompile(`<property name="(?:confluence\.cluster\.home|shared-home)">([^<]+)</property>`)

// readSmall reads a product config file, at most 1 MiB, refusing what is not a regular file.
func readSmall(path string) ([]byte, error) { return ReadKeyFile(path) }
