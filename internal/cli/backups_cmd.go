package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/backup"
)

type backupsOptions struct {
	stateDir, dir, identity, olderThan string
	yes, dryRun, json                  bool
	policy                             policyFlags
}

// newBackupsCmd is `reauth backups list|shred`: what the state directory holds, and its removal.
func newBackupsCmd(streams IO) *cobra.Command {
	var o backupsOptions
	cmd := &cobra.Command{
		Use:   "backups list|shred|keygen",
		Short: "List the backups in reauth's state directory, shred them, or make a key to encrypt them",
		Long: `A backup holds the tokens a purge deleted: in Jira, Confluence and Bamboo each row can be turned
back into a working remember-me cookie until it expires. Keep backups only as long as a restore
may be needed, then shred them.

  reauth backups list                        product, database, time, rows, encrypted, verified,
                                             and how each stands against the audit log
  reauth backups shred FILE...               overwrite with random bytes, fsync, remove
  reauth backups shred --older-than 14d      every backup in the directory taken before then
  reauth backups keygen                      an age identity to encrypt backups to (see its --help)

The directory is the state directory's backups/ ($XDG_STATE_HOME/reauth/backups, else
~/.local/state/reauth/backups; --state-dir or --dir to look elsewhere). A clear backup is checked
(row count and sha256) as it is listed; an encrypted one only with --identity. list also holds
each against the audit log (--audit-log, else --config's defaults.audit_log, else the state
directory's audit.jsonl): the sha256 the run that wrote it recorded, or that there is no record;
a clear file the log records as encrypted is marked a forgery. shred refuses a
file that is not a reauth backup, and asks to confirm (--yes in scripts). ` + backup.ShredNote + `.`,
		Example: `  reauth backups list
  reauth backups shred --older-than 14d --yes
  reauth backups shred ~/.local/state/reauth/backups/reauth-jira-20250131T180000Z.jsonl.gz`,
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the backups: product, database, time, rows, encrypted, verified, audit log record",
		Args:  needArgs(0, "no arguments"),
		RunE:  func(c *cobra.Command, args []string) error { return runBackupsList(streams, o) },
	}
	shred := &cobra.Command{
		Use:   "shred FILE...|--older-than AGE",
		Short: "Overwrite and remove backups (best effort on SSDs and copy-on-write filesystems)",
		RunE:  func(c *cobra.Command, args []string) error { return runBackupsShred(streams, o, args) },
	}
	for _, c := range []*cobra.Command{list, shred} {
		c.Flags().StringVar(&o.stateDir, "state-dir", "", "reauth's private directory (default $XDG_STATE_HOME/reauth, else ~/.local/state/reauth)")
		c.Flags().StringVar(&o.dir, "dir", "", "look for backups in this directory instead of the state directory's backups/")
		c.Flags().BoolVar(&o.json, "json", false, "print one JSON object")
	}
	list.Flags().StringVar(&o.identity, "identity", "", "age identity or SSH private key: check encrypted backups too")
	o.policy.add(list.Flags(), false)
	shred.Flags().StringVar(&o.olderThan, "older-than", "", "every backup taken longer ago than this (e.g. 14d, 36h)")
	shred.Flags().BoolVar(&o.yes, "yes", false, "do not ask for confirmation")
	shred.Flags().BoolVar(&o.dryRun, "dry-run", false, "say what would be shredded; touch nothing")
	cmd.AddCommand(list, shred, newBackupsKeygenCmd(streams))
	return cmd
}

// backupEntry is one backup as list shows it.
type backupEntry struct {
	backupJSON
	Rows     *int64 `json:"rows"` // null: not known (encrypted, no --identity)
	Verified bool   `json:"verified"`
	Problem  string `json:"problem,omitempty"`
	// Audit is how the file stands against the audit log: "sha256 matches", "sha256 differs",
	// "recorded as encrypted" (a clear file: a forgery), "recorded without sha256", "not checked"
	// (encrypted, no --identity), "no record", "no audit log".
	Audit      string    `json:"audit"`
	AuditRunID string    `json:"audit_run_id,omitempty"`
	sha        string    // the digest of its rows, when read
	Taken      time.Time `json:"-"`
}

func (o backupsOptions) directory(streams IO) (string, error) {
	if o.dir != "" {
		return o.dir, nil
	}
	sd, err := reauth.ResolveStateDir(o.stateDir, streams.getenv)
	if err != nil {
		return "", err
	}
	return sd.Backups(), nil
}

// scan reads the manifest (and checks, where it can) of every backup in dir.
func scan(streams IO, dir string, ids []backup.Identity, check bool) ([]backupEntry, error) {
	names, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, reauth.Refused("pass --dir DIR or --state-dir DIR", "read backups directory: %v", err)
	}
	var out []backupEntry
	for _, n := range names {
		if n.IsDir() || !strings.HasPrefix(n.Name(), "reauth-") {
			continue
		}
		path := filepath.Join(dir, n.Name())
		r, err := backup.Open(path)
		if err != nil {
			continue // not a backup: not listed, never shredded by --older-than
		}
		m := r.Manifest()
		r.Close()
		e := backupEntry{backupJSON: manifestJSON(path, m), Taken: m.Started}
		if check && (m.Encryption == "" || len(ids) > 0) {
			s, err := backup.VerifyWith(path, ids)
			if s.Rows > 0 || err == nil {
				e.Rows = &s.Rows
			}
			e.Verified, e.sha = err == nil, s.SHA256
			if err != nil {
				e.Problem = err.Error()
			}
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Taken.Before(out[j].Taken) })
	return out, nil
}

func runBackupsList(streams IO, o backupsOptions) error {
	dir, err := o.directory(streams)
	if err != nil {
		return err
	}
	var ids []backup.Identity
	if o.identity != "" {
		if ids, err = loadIdentities(streams, o.identity, backup.Manifest{Encryption: "age"}); err != nil {
			return err
		}
	}
	list, err := scan(streams, dir, ids, true)
	if err != nil {
		return err
	}
	if o.policy.stateDir == "" {
		o.policy.stateDir = o.stateDir
	}
	pol, err := o.policy.load(streams)
	if err != nil {
		return err
	}
	for i := range list {
		pol.judge(&list[i])
	}
	if o.json {
		return writeJSON(streams.Out, struct {
			Dir     string        `json:"dir"`
			Backups []backupEntry `json:"backups"`
		}{dir, append([]backupEntry{}, list...)})
	}
	if len(list) == 0 {
		fmt.Fprintf(streams.Out, "no backups in %s\n", dir)
		return nil
	}
	fmt.Fprintf(streams.Out, "backups in %s:\n", dir)
	for _, e := range list {
		rows, ver := "?", "not checked (encrypted: give --identity)"
		if e.Rows != nil {
			rows = strconv.FormatInt(*e.Rows, 10)
		}
		switch {
		case e.Verified:
			ver = "verified"
		case e.Problem != "":
			ver = "NOT verified: " + e.Problem
		}
		enc := "CLEAR (live login tokens)"
		if e.Encrypted {
			enc = "encrypted"
		}
		fmt.Fprintf(streams.Out, "  %s  %-10s %s  %s rows  %s  %s  audit log: %s\n    %s\n", e.Started, e.Product, e.Database.String(), rows, enc, ver,
			e.Audit, e.Path)
	}
	return nil
}

func runBackupsShred(streams IO, o backupsOptions, files []string) error {
	if (len(files) == 0) == (o.olderThan == "") {
		return usageError{cmd: "backups shred", err: fmt.Errorf("give the backup FILEs to shred, or --older-than AGE (not both)")}
	}
	if o.olderThan != "" {
		age, err := parseAge(o.olderThan)
		if err != nil {
			return usageError{cmd: "backups shred", err: err}
		}
		dir, err := o.directory(streams)
		if err != nil {
			return err
		}
		list, err := scan(streams, dir, nil, false)
		if err != nil {
			return err
		}
		for _, e := range list {
			if streams.now().Sub(e.Taken) > age {
				files = append(files, e.Path)
			}
		}
	}
	fmt.Fprintf(streams.Err, "note: %s\n", backup.ShredNote)
	if o.dryRun || len(files) == 0 {
		for _, f := range files {
			fmt.Fprintf(streams.Out, "would shred %s\n", f)
		}
		if len(files) == 0 {
			fmt.Fprintln(streams.Out, "no backup to shred")
		}
		return nil
	}
	if err := confirmTyped(streams, o.yes, "shred", fmt.Sprintf("overwrite and remove %d backup file(s)", len(files))); err != nil {
		return err
	}
	var failed []string
	for _, f := range files {
		if err := backup.Shred(f); err != nil {
			failed = append(failed, err.Error())
			continue
		}
		fmt.Fprintf(streams.Out, "shredded %s\n", f)
	}
	if len(failed) > 0 {
		return reauth.Failed("check the paths: shred only removes files that are reauth backups", "%s", strings.Join(failed, "; "))
	}
	return nil
}

// parseAge reads --older-than: a Go duration, or a number of days ("14d").
func parseAge(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err == nil && n >= 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("--older-than %q: give days (14d) or a duration (36h)", s)
	}
	return d, nil
}
