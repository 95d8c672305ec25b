#!/usr/bin/env bash
# The release build, proven on every CI run: .goreleaser.yaml is valid, a snapshot builds for
# linux/amd64 with its man pages, and the built binary is static and names this commit.
set -euo pipefail
cd "$(dirname "$0")/.."
GORELEASER_VERSION=${GORELEASER_VERSION:-v2.15.1}

gr=$(command -v goreleaser || true)
if [ -z "$gr" ]; then
  gr="$(go env GOPATH)/bin/goreleaser"
  if [ ! -x "$gr" ]; then
    echo "installing goreleaser $GORELEASER_VERSION (go install; minutes on a cold cache)"
    t0=$(date +%s)
    go install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION"
    echo "goreleaser installed in $(( $(date +%s) - t0 )) s"
  fi
fi
"$gr" --version 2>&1 | grep -i '^gitversion' || true

"$gr" check
GOOS=linux GOARCH=amd64 "$gr" build --snapshot --clean --single-target

bin=$(ls dist/reauth_linux_amd64*/reauth)
"$bin" version
# Every -X path of .goreleaser.yaml took: unstamped, version is 0.1.0-dev and commit/build_date are
# empty. (Without a tag goreleaser stamps commit "none"; with one it must be this commit.)
json=$("$bin" version --json)
echo "$json" | grep -q '"version": "0.1.0-dev"' && { echo "version not stamped (check -X ...cli.Version)"; exit 1; }
echo "$json" | grep -q '"commit": ""' && { echo "commit not stamped (check -X ...cli.Commit)"; exit 1; }
echo "$json" | grep -q '"build_date": ""' && { echo "build date not stamped (check -X ...cli.BuildDate)"; exit 1; }
if git describe --tags >/dev/null 2>&1; then
  echo "$json" | grep -q "\"commit\": \"$(git rev-parse HEAD)\"" || { echo "the release binary does not name this commit"; exit 1; }
fi
go version -m "$bin" | grep -q 'CGO_ENABLED=0' || { echo "the release binary is not static (CGO_ENABLED=0)"; exit 1; }
test -s dist-man/man1/reauth-run.1 || { echo "no man pages in dist-man/man1"; exit 1; }
echo "release snapshot: $bin ($(stat -c %s "$bin") bytes), $(ls dist-man/man1 | wc -l) man pages"
