#!/usr/bin/env bash
# Cold start of the README's first command, measured honestly: empty module and build caches,
# `go run ./cmd/reauth demo` until the demo prints its first line. Prints the wall time, the CPU
# time (user + sys of go and every compiler/linker it ran) to that line, the load average, the
# size of the module cache downloaded, and the sizes of the dev binary (`go build -o`, as the
# README builds it) and of the release binary (goreleaser's flags: -trimpath -ldflags "-s -w",
# CGO_ENABLED=0), and of what `go run` itself links (it omits the symbol table and DWARF, as
# -ldflags "-s -w"). GOPROXY/GOFLAGS are left as the environment has them.
#
#   bench/coldstart/measure.sh            # from the repository root
#   KEEP=1 bench/coldstart/measure.sh     # keep the caches (printed) for bench/coldstart/rank.sh
#
# The machine may be shared: CPU seconds are the comparable figure; on N idle cores the wall
# time is about max(CPU / N, the module download), reported as "projected wall on 2 idle cores"
# from the CPU time alone (the compile is the part that parallelises; see rank.sh for the
# critical path).
set -euo pipefail
cd "$(dirname "$0")/../.."
export GOCACHE=$(mktemp -d /tmp/coldstart-gocache.XXXX) GOMODCACHE=$(mktemp -d /tmp/coldstart-gomod.XXXX)
work=$(mktemp -d /tmp/coldstart.XXXX)
echo "date:      $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:   $(nproc) cores, $(go version | cut -d' ' -f3-), $(git rev-parse --short HEAD 2>/dev/null || echo no-git)"
echo "load:      $(cut -d' ' -f1-3 /proc/loadavg) (before)"
echo "caches:    GOCACHE=$GOCACHE GOMODCACHE=$GOMODCACHE"

mkfifo "$work/out"
t0=$(date +%s.%N)
setsid go run ./cmd/reauth demo >"$work/out" 2>"$work/stderr" &
pid=$!
first=""
IFS= read -r first <"$work/out" || true
t1=$(date +%s.%N)
kill -TERM -- "-$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
# bash's `times`: second line is the CPU (user sys) of the waited-for children: go, and through
# it every compile, asm and link it waited for.
# (`times` runs in this shell, not in a subshell, whose children would be none.)
times >"$work/times"
read -r cu cs < <(sed -n 2p "$work/times" | sed 's/m/ /g; s/s//g' | awk '{print $1*60+$2, $3*60+$4}')
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "modules:   $(grep -c '^go: downloading' "$work/stderr" || true) downloaded by go run"
echo "first:     $first"
awk -v t0="$t0" -v t1="$t1" -v u="$cu" -v s="$cs" -v n="$(nproc)" 'BEGIN{
  printf "wall:      %.1f s to the first line\n", t1-t0;
  printf "cpu:       %.1f s (user %.1f + sys %.1f)\n", u+s, u, s;
  printf "projected: %.1f s wall on %d idle cores (cpu / cores)\n", (u+s)/n, n }'
echo "load:      $load_after (after)"
echo "modcache:  $(du -sm "$GOMODCACHE" | cut -f1) MB"
go build -o "$work/reauth" ./cmd/reauth
go build -ldflags "-s -w" -o "$work/reauth-gorun" ./cmd/reauth   # what go run links (no symbols, no DWARF)
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/reauth-release" ./cmd/reauth
mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN{printf "%d bytes (%.1f MB)", b, b/1e6}'; }
echo "binary:    go build -o $(mb "$work/reauth"); go run's $(mb "$work/reauth-gorun"); release $(mb "$work/reauth-release")"
if [ -n "${KEEP:-}" ]; then
  echo "kept:      GOMODCACHE=$GOMODCACHE work=$work"
  rm -rf "$GOCACHE"
else
  chmod -R u+w "$GOMODCACHE"; rm -rf "$GOCACHE" "$GOMODCACHE" "$work"
fi
