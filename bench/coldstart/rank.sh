#!/usr/bin/env bash
# Where a cold build of ./cmd/reauth spends its CPU: every compile/asm/link the go command runs
# goes through a -toolexec wrapper that records its user+sys CPU seconds, then the packages are
# ranked, and summed per module. Uses an empty build cache; the module cache is taken from the
# environment (GOMODCACHE; download first, e.g. KEEP=1 measure.sh) so only compiling is counted.
#
#   GOMODCACHE=/tmp/coldstart-gomod.XXXX bench/coldstart/rank.sh [top-N]
set -euo pipefail
cd "$(dirname "$0")/../.."
top=${1:-15}
work=$(mktemp -d /tmp/coldstart-rank.XXXX)
export GOCACHE="$work/cache" COLDSTART_LOG="$work/log"
mkdir -p "$GOCACHE"
cat >"$work/wrap" <<'W'
#!/usr/bin/env bash
# $1 is the tool; "-p path" names the package being compiled (link: the main package).
tool=$(basename "$1"); pkg=""; prev=""
for a in "$@"; do [ "$prev" = "-p" ] && pkg=$a; prev=$a; done
[ "$tool" = link ] && pkg="(link)"
"$@"; rc=$?
case "$tool" in compile|asm|link|cgo)
  t=$(mktemp); times >"$t"   # in this shell: a subshell's `times` has no children
  read -r u s < <(sed -n 2p "$t" | sed 's/m/ /g; s/s//g' | awk '{print $1*60+$2, $3*60+$4}'); rm -f "$t"
  # -V=full probes are not work
  case " $* " in *" -V=full "*) ;; *) echo "$u $s $tool $pkg" >>"$COLDSTART_LOG";; esac ;;
esac
exit $rc
W
chmod +x "$work/wrap"
t0=$(date +%s.%N)
go build -toolexec="$work/wrap" -o "$work/reauth" ./cmd/reauth
t1=$(date +%s.%N)
awk -v w="$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" '{c=$1+$2; tot+=c} END{printf "total tool CPU %.1f s over %d tool runs; wall %.1f s; load %s\n", tot, NR, w, "'"$(cut -d' ' -f1-3 /proc/loadavg)"'"}' "$COLDSTART_LOG"
echo "--- top $top packages (CPU s, compile+asm)"
awk '{c[$4]+=$1+$2} END{for (p in c) printf "%7.1f  %s\n", c[p], p}' "$COLDSTART_LOG" | sort -rn | head -n "$top"
echo "--- per module (CPU s; std = standard library)"
mods=$(go list -deps -f '{{.ImportPath}} {{if .Module}}{{.Module.Path}}{{else}}std{{end}}' ./cmd/reauth)
awk 'NR==FNR{m[$1]=$2; next} {p=$4; mod=(p in m)?m[p]:(p=="(link)"?"(link)":"other"); c[mod]+=$1+$2; n[mod]++}
     END{for (x in c) printf "%7.1f  %4d pkgs  %s\n", c[x], n[x], x}' <(echo "$mods") "$COLDSTART_LOG" | sort -rn
rm -rf "$work"
