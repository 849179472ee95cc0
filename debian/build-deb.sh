#!/usr/bin/env bash
# Build laundrybot's .deb without writing anything next to the clone:
#   bash debian/build-deb.sh [OUTDIR]        (default OUTDIR: build/deb, gitignored)
# The package's inputs (pyproject.toml, README.md, laundrybot/, conf/, systemd/, debian/) are
# copied into a temporary build folder (dpkg-buildpackage writes the .deb into the parent of
# the source tree), built with `dpkg-buildpackage -us -uc -b`, checked with lintian (errors
# fail the build, warnings are printed), and cached in $LAUNDRYBOT_DEB_CACHE (default
# /var/cache/laundrybot-test/deb as root, else ~/.cache/laundrybot-test/deb) under a hash of those inputs, so an unchanged tree is not
# built twice. Needs: dpkg-dev debhelper dh-virtualenv python3-venv python3-dev lintian, and
# PyPI (or pip's cache) for the pinned wheels.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/build/deb}
# Root caches for the whole machine (CI's runs share it); a normal user in their own cache.
if [ "$(id -u)" -eq 0 ]; then
    cache=${LAUNDRYBOT_DEB_CACHE:-/var/cache/laundrybot-test/deb}
else
    cache=${LAUNDRYBOT_DEB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/laundrybot-test/deb}
fi
inputs=(pyproject.toml README.md laundrybot conf systemd debian)

key=$(cd "$src" && find "${inputs[@]}" -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 \
    | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
version=$(cd "$src/debian" && dpkg-parsechangelog -l changelog -S Version)
arch=$(dpkg --print-architecture)
deb_name="laundrybot_${version}_${arch}.deb"
mkdir -p "$out"
rm -f "$out"/laundrybot_*.deb
if [ -f "$cache/$key/$deb_name" ]; then
    echo "build-deb: unchanged inputs ($key): using the cached $cache/$key/$deb_name"
    cp "$cache/$key/$deb_name" "$out/"
    cp "$cache/$key/lintian.txt" "$out/" 2>/dev/null || true
    exit 0
fi

work=$(mktemp -d /tmp/laundrybot-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
tree="$work/laundrybot-$version"
mkdir "$tree"
(cd "$src" && tar --exclude=__pycache__ --exclude='*.pyc' -cf - "${inputs[@]}") | tar -C "$tree" -xf -
# Files the package build must not see.
rm -f "$tree/debian/build-deb.sh"

start=$(date +%s)
(cd "$tree" && dpkg-buildpackage -us -uc -b) > "$work/build.log" 2>&1 || {
    tail -60 "$work/build.log"
    echo "build-deb: dpkg-buildpackage failed (full log above, last 60 lines)" >&2
    exit 1
}
echo "build-deb: dpkg-buildpackage took $(( $(date +%s) - start )) s"

# lintian: errors fail the build (the rejected .deb is kept in OUTDIR/rejected/ to look at);
# warnings are counted by tag here and listed in full in OUTDIR/lintian.txt.
start=$(date +%s)
if ! lintian --fail-on error --tag-display-limit 0 "$work/$deb_name" > "$out/lintian.txt" 2>&1; then
    grep '^E:' "$out/lintian.txt" | head -50
    mkdir -p "$out/rejected" && cp "$work/$deb_name" "$out/rejected/"
    echo "build-deb: lintian reports errors (all of it in $out/lintian.txt)" >&2
    exit 1
fi
echo "build-deb: lintian took $(( $(date +%s) - start )) s; no errors; warnings by tag:"
grep -E '^[WE]:' "$out/lintian.txt" | awk '{print $1, $3}' | sort | uniq -c | sort -rn || true
mkdir -p "$cache/$key"
cp "$work/$deb_name" "$cache/$key/$deb_name.tmp" && mv "$cache/$key/$deb_name.tmp" "$cache/$key/$deb_name"
cp "$out/lintian.txt" "$cache/$key/lintian.txt"
cp "$work/$deb_name" "$out/"
echo "build-deb: $out/$deb_name ($(du -h "$out/$deb_name" | cut -f1))"
