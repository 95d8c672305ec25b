package runbook

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/boundedfile"
)

// seraphAge is Seraph's remember-me cookie lifetime in seraph-config.xml (seconds).
var seraphAge = regexp.MustCompile(`<param-name>\s*autologin\.cookie\.age\s*</param-name>\s*<param-value>\s*(\d+)\s*</param-value>`)

// seraphConfigs are where Seraph's config sits in an install directory, per product.
var seraphConfigs = map[atlassian.ProductID]string{
	atlassian.Jira:       "atlassian-jira/WEB-INF/classes/seraph-config.xml",
	atlassian.Confluence: "confluence/WEB-INF/classes/seraph-config.xml",
	atlassian.Bamboo:     "atlassian-bamboo/WEB-INF/classes/seraph-config.xml",
}

// cookieLifetime is how long the product's remember-me cookies stay valid, and where that comes
// from: Seraph's autologin.cookie.age in a node's install directory, else the product's documented
// default (Confluence: two weeks, per Atlassian's "Confluence cookies" page; Fisheye: at most 90
// days, UNCONFIRMED). 0 when unknown.
func (u *unit) cookieLifetime() (time.Duration, string) {
	if rel, ok := seraphConfigs[u.prod.ID]; ok {
		dirs := []string{u.inv.Install}
		for _, n := range u.inv.Nodes {
			dirs = append(dirs, n.Install)
		}
		for _, d := range dirs {
			if d == "" {
				continue
			}
			path := filepath.Join(d, rel)
			b, err := boundedfile.Read(path, 1<<20)
			if err != nil {
				continue
			}
			if m := seraphAge.FindSubmatch(b); m != nil {
				if s, err := strconv.ParseInt(string(m[1]), 10, 64); err == nil && s > 0 {
					return time.Duration(s) * time.Second, "autologin.cookie.age in " + path
				}
			}
		}
	}
	switch u.prod.ID {
	case atlassian.Confluence:
		return 14 * 24 * time.Hour, "Confluence's default (two weeks)"
	case atlassian.Fisheye:
		return 90 * 24 * time.Hour, "Fisheye's longest remember-me setting (90 days, UNCONFIRMED)"
	}
	return 0, ""
}

// backupLifetime fills the report's note on when the run's backups stop being useful (and
// dangerous): tokens issued just before the run live one cookie lifetime after it.
func (u *unit) backupLifetime(runStart time.Time) {
	b := &u.report.Backup
	if u.prod.ID == atlassian.Bitbucket {
		b.UsefulUntilNote = "each token carries its own expiry (expiry_timestamp): the backup is useless once the latest has passed"
		return
	}
	d, src := u.cookieLifetime()
	if d == 0 {
		b.UsefulUntilNote = "cookie lifetime unknown for " + u.prod.Name + ": shred the backup (reauth backups shred) once no restore can be needed"
		return
	}
	until := runStart.Add(d).UTC()
	b.UsefulUntil = &until
	b.UsefulUntilNote = fmt.Sprintf("its tokens can log users in until %s at the latest (cookie lifetime %s, from %s); shred it after that: reauth backups shred",
		until.Format(time.RFC3339), d, src)
}
