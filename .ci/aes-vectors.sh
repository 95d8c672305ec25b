#!/usr/bin/env bash
# Makes fresh AES test vectors with the real JDK (random passwords, new keys and IVs, sealed as
# Atlassian's cipher tool seals them) and checks that package aescipher decrypts every one.
# Exits non-zero on any mismatch, or when the JDK is missing. BouncyCastle (the provider Atlassian's
# tool uses) is installed from Debian when missing; without it the JDK's SunJCE seals the vectors.
# Usage: bash .ci/aes-vectors.sh [COUNT]   (default 24 vectors)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-24}
bc=/usr/share/java/bcprov.jar

if ! command -v java >/dev/null 2>&1; then
  echo "aes-vectors: java not found (.ci/services.sh installs default-jdk-headless)" >&2
  exit 1
fi
if [ ! -f "$bc" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "aes-vectors: installing libbcprov-java (BouncyCastle, as Atlassian's tool uses)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libbcprov-java >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libbcprov-java >/dev/null; } ||
    echo "aes-vectors: libbcprov-java not installed: sealing with SunJCE only" >&2
fi
cp=()
[ -f "$bc" ] && cp=(-cp "$bc")

dir=$(mktemp -d /tmp/reauth-aes-vectors.XXXXXX)
trap 'rm -rf "$dir" "${log:-}"' EXIT
java "${cp[@]}" atlassian/aescipher/testdata/Generate.java random "$dir" "$count"
n=$(find "$dir" -name field.json | wc -l)
if [ "$n" -ne "$count" ]; then
  echo "aes-vectors: the generator wrote $n vectors, not $count" >&2
  exit 1
fi
log=$(mktemp /tmp/reauth-aes-vectors-log.XXXXXX)
if ! REAUTH_AES_VECTORS=$dir go test -count=1 -run '^TestFreshVectors$' -v ./atlassian/aescipher > "$log" 2>&1; then
  grep -v '^=== RUN' "$log" | head -200
  echo "aes-vectors: FAILED: Go did not decrypt every JDK-made vector" >&2
  exit 1
fi
passed=$(grep -c -- '--- PASS: TestFreshVectors/' "$log" || true)
if [ "$passed" -ne "$n" ]; then
  cat "$log"
  echo "aes-vectors: only $passed of $n vectors were checked" >&2
  exit 1
fi
tail -n 1 "$log"
echo "aes-vectors: $n fresh vectors decrypted"
