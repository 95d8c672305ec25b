#!/usr/bin/env bash
# Runs every Fuzz target in the module for a short time each (default 5s): bad input must never panic.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${1:-5s}
n=0
for pkg in $(go list ./...); do
  for f in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    echo "fuzz $pkg $f ($t)"
    go test -run '^$' -fuzz "^${f}\$" -fuzztime "$t" "$pkg" > /tmp/reauth-fuzz.log 2>&1 || { cat /tmp/reauth-fuzz.log; exit 1; }
    n=$((n+1))
  done
done
echo "fuzz: $n targets ran"
