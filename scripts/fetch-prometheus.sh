#!/usr/bin/env bash
# Fetches Prometheus (server + promtool) for the monitoring tests, without installing anything system-wide:
# `apt-get download prometheus` into a temporary directory, `dpkg-deb -x` into <repo>/.tools/prometheus
# (git-ignored). Idempotent: when the unpacked binaries are already there and run, nothing is downloaded.
# Runs `apt-get update` only when the download fails because apt has no package lists.
#
# Prints the path of the prometheus binary on stdout (promtool sits beside it); logs go to stderr.
# Usage: scripts/fetch-prometheus.sh        Env: DESCENT_TOOLS_DIR (default <repo>/.tools)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools_dir=${DESCENT_TOOLS_DIR:-$root/.tools}
dest="$tools_dir/prometheus"
bin="$dest/usr/bin/prometheus"
promtool="$dest/usr/bin/promtool"
PACKAGE=prometheus

log() { echo "fetch-prometheus: $*" >&2; }
die() { echo "fetch-prometheus: error: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is not on PATH; it is needed to $2."; }

works() { [ -x "$bin" ] && [ -x "$promtool" ] && "$bin" --version >/dev/null 2>&1 && "$promtool" --version >/dev/null 2>&1; }

if works; then
  log "already present: $("$bin" --version 2>&1 | head -1)"
  echo "$bin"
  exit 0
fi

need apt-get "download the Debian package $PACKAGE"
need dpkg-deb "unpack the Debian package $PACKAGE"
work=$(mktemp -d "${TMPDIR:-/tmp}/descent-prometheus.XXXXXX")
trap 'rm -rf "$work"' EXIT
apt_opts=()
# As root, apt drops privileges to _apt, which cannot write into our private temp dir.
if [ "$(id -u)" = 0 ]; then apt_opts=(-o APT::Sandbox::User=root); fi

download() { (cd "$work" && apt-get "${apt_opts[@]}" -q download "$PACKAGE" 2>&1); }

log "downloading Debian package $PACKAGE (about 25 MB) into $work"
if ! out=$(download); then
  if grep -qiE "unable to locate package|no installation candidate|can't select" <<<"$out"; then
    log "apt does not know $PACKAGE (package lists missing or stale); running apt-get update"
    [ "$(id -u)" = 0 ] || die "apt-get update needs root: run 'sudo apt-get update', then this script again."
    apt-get -q update >/dev/null || die "apt-get update failed; check the network and /etc/apt/sources.list."
    out=$(download) || die "apt-get download $PACKAGE failed after apt-get update: $out"
  else
    die "apt-get download $PACKAGE failed: $out"
  fi
fi

deb=$(find "$work" -maxdepth 1 -name "${PACKAGE}_*.deb" | head -1)
[ -n "$deb" ] || die "apt-get download reported success but left no ${PACKAGE}_*.deb in $work"
# Unpack beside the destination, then swap it in, so an interrupted run never leaves half a tree behind.
mkdir -p "$tools_dir"
staging="$tools_dir/.prometheus.part.$$"
rm -rf "$staging"
dpkg-deb -x "$deb" "$staging" || { rm -rf "$staging"; die "dpkg-deb -x $deb failed"; }
[ -x "$staging/usr/bin/prometheus" ] && [ -x "$staging/usr/bin/promtool" ] \
  || { rm -rf "$staging"; die "$deb holds no usr/bin/prometheus and usr/bin/promtool"; }
rm -rf "$dest"
mv "$staging" "$dest"
works || die "unpacked $deb into $dest, but '$bin --version' does not run"
log "unpacked $(basename "$deb"): $("$bin" --version 2>&1 | head -1)"
echo "$bin"
