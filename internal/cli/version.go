package cli

import (
	"database/sql"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/rollout/execmethod"
	"github.com/reauth/reauth/rollout/kube"
	"github.com/reauth/reauth/rollout/sshmethod"
	"github.com/reauth/reauth/sqlstore"
)

// Commit and BuildDate are stamped by the release build, as Version is (.goreleaser.yaml):
//
//	-ldflags "-X github.com/reauth/reauth/internal/cli.Commit=… -X github.com/reauth/reauth/internal/cli.BuildDate=…"
//
// Unstamped (go build, go install), the commit and date come from the Go toolchain's build
// information when it has them (vcs.revision, vcs.time).
var (
	Commit    = ""
	BuildDate = ""
)

// defaultVersion is Version when nothing stamped it.
const defaultVersion = "0.1.0-dev"

// versionInfo is what `reauth version --json` prints.
type versionInfo struct {
	Version        string   `json:"version"`
	Commit         string   `json:"commit"`     // "" when unknown
	Modified       bool     `json:"modified"`   // built from a tree with uncommitted changes
	BuildDate      string   `json:"build_date"` // RFC 3339, "" when unknown
	GoVersion      string   `json:"go_version"` // the Go toolchain that built it
	Platform       string   `json:"platform"`   // GOOS/GOARCH
	Engines        []string `json:"engines"`    // databases whose driver is compiled in
	RestartMethods []string `json:"restart_methods"`
}

// stamp is what -ldflags -X set.
type stamp struct{ version, commit, date string }

// versionOf merges the stamped values with the toolchain's build information (read), which fills
// what was not stamped: the module version of `go install …@vX`, the VCS revision and time.
func versionOf(s stamp, read func() (*debug.BuildInfo, bool)) versionInfo {
	v := versionInfo{Version: s.version, Commit: s.commit, BuildDate: s.date,
		GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := read(); ok && bi != nil {
		if bi.GoVersion != "" {
			v.GoVersion = bi.GoVersion
		}
		if (v.Version == "" || v.Version == defaultVersion) && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v.Version = strings.TrimPrefix(bi.Main.Version, "v")
		}
		for _, kv := range bi.Settings {
			switch kv.Key {
			case "vcs.revision":
				if s.commit == "" {
					v.Commit = kv.Value
				}
			case "vcs.time":
				if s.date == "" {
					v.BuildDate = kv.Value
				}
			case "vcs.modified":
				v.Modified = s.commit == "" && kv.Value == "true"
			}
		}
	}
	if v.Version == "" {
		v.Version = defaultVersion
	}
	v.Engines = compiledEngines(sql.Drivers())
	v.RestartMethods = []string{(&execmethod.Restarter{}).Method(), (&sshmethod.Restarter{}).Method(), (&kube.PodRestarter{}).Method()}
	return v
}

// compiledEngines lists the product databases whose database/sql driver is registered.
func compiledEngines(drivers []string) []string {
	var out []string
	for _, e := range []reauth.Engine{reauth.Postgres, reauth.MySQL, reauth.MariaDB, reauth.SQLServer, reauth.Oracle} {
		d, err := sqlstore.DialectFor(e)
		if err == nil && slices.Contains(drivers, d.Driver()) {
			out = append(out, string(e))
		}
	}
	return out
}

func newVersionCmd(streams IO) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date, Go version, and the compiled-in engines and restart methods",
		Example: `  reauth version
  reauth version --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := versionOf(stamp{version: Version, commit: Commit, date: BuildDate}, debug.ReadBuildInfo)
			if asJSON {
				return writeJSON(streams.Out, v)
			}
			printVersion(streams, v)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object: version, commit, modified, build_date, go_version, platform, engines, restart_methods")
	return c
}

func printVersion(streams IO, v versionInfo) {
	unknown := func(s string) string {
		if s == "" {
			return "unknown"
		}
		return s
	}
	commit := unknown(v.Commit)
	if v.Modified {
		commit += " (with uncommitted changes)"
	}
	fmt.Fprintf(streams.Out, "reauth %s\n", v.Version)
	fmt.Fprintf(streams.Out, "commit:          %s\n", commit)
	fmt.Fprintf(streams.Out, "built:           %s\n", unknown(v.BuildDate))
	fmt.Fprintf(streams.Out, "go:              %s %s\n", v.GoVersion, v.Platform)
	fmt.Fprintf(streams.Out, "engines:         %s\n", strings.Join(v.Engines, ", "))
	fmt.Fprintf(streams.Out, "restart methods: %s\n", strings.Join(v.RestartMethods, ", "))
}
