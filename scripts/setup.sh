#!/usr/bin/env bash
# Makes a fresh machine ready for the demo and the tests: Java + Debian's ZooKeeper 3.8 (the
# test kit starts real servers from /usr/share/java/zookeeper.jar), kazoo 2.8 for the interop
# tests (Curator 5.4 and Jackson for the Curator ones), Debian's chromium for the inspector web
# view's browser test (driven by playwright-core, which downloads no browser), and the npm dependencies. Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  local runner=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then runner=(sudo); else
      echo "setup: need root (or sudo) to run: apt-get install -y $*" >&2; exit 1
    fi
  fi
  "${runner[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${runner[@]}" apt-get install -y -qq "$@"
}

missing=()
if ! command -v java >/dev/null 2>&1 || [ ! -f /usr/share/java/zookeeper.jar ]; then missing+=(zookeeper); fi
if ! /usr/bin/python3 -c 'import kazoo' >/dev/null 2>&1; then missing+=(python3-kazoo); fi
for curator in libcurator-framework-java libcurator-recipes-java libcurator-client-java libcurator-discovery-java libjackson2-databind-java; do
  if ! dpkg -s "$curator" >/dev/null 2>&1; then missing+=("$curator"); fi
done
if [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} with apt-get" >&2
  apt_install "${missing[@]}"
fi

# (.ci/run sets SETUP_SKIP_NPM: it runs a clean `npm ci` itself.)
if [ -z "${SETUP_SKIP_NPM:-}" ] && { [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  npm ci --no-audit --no-fund
fi
