#!/usr/bin/env bash
# Runs the whole test suite as .ci/run does (go test ./... with CI=true, then the -race pass over the
# concurrent packages unless REAUTH_REPEAT_RACE=0) N times, each on a fresh clone of HEAD beside this
# checkout (so ../shared resolves), one after another. Prints one line per run (pass or FAIL, seconds,
# the log of a failed run) and the count. Usage: bash .ci/repeat.sh [N]   (default 10)
set -uo pipefail
cd "$(dirname "$0")/.."
n=${1:-10}
rev=$(git rev-parse HEAD)
parent=$(cd .. && pwd)
export CI=true
bash .ci/services.sh
# shellcheck disable=SC1091
source "${REAUTH_SVC_DIR:-/tmp/reauth-ci}/env"
pass=0
for i in $(seq 1 "$n"); do
  dir="$parent/reauth-repeat-$i"
  log="$dir.log"
  rm -rf "$dir" "$log"
  git clone -q . "$dir" && git -C "$dir" checkout -q "$rev"
  start=$(date +%s)
  if (cd "$dir" && go test -count=1 -timeout 25m ./... &&
      if [ "${REAUTH_REPEAT_RACE:-1}" != 0 ]; then
        go test -race -count=1 -timeout 20m ./backup/... ./sqlstore/... ./apimode/... ./rollout/... ./runbook/...
      fi) >"$log" 2>&1; then
    result=pass; pass=$((pass + 1))
  else
    result=FAIL
  fi
  echo "run $i of $n at ${rev:0:7}: $result in $(( $(date +%s) - start )) s (ended $(date -u +%H:%M:%S) UTC)$([ $result = FAIL ] && echo ", log $log")"
  rm -rf "$dir"
  [ "$result" = pass ] && rm -f "$log"
done
echo "$pass of $n runs passed"
[ "$pass" = "$n" ]
