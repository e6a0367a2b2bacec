#!/usr/bin/env bash
# Unpacks the Debian packages that a build machine without them (e.g. a GPU host where nothing can be
# installed) needs for the text module and the HTTP server, into .deps/root (git-ignored). Build there
# with CMAKE_PREFIX_PATH=$PWD/.deps/root/usr and LD_LIBRARY_PATH=$PWD/.deps/root/usr/lib/x86_64-linux-gnu.
# Run on a Debian machine with network access to the package mirror.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/.deps/debs" "$root/.deps/root"
cd "$root/.deps/debs"
apt-get download libpcre2-dev libpcre2-8-0 libcpp-httplib-dev libcpp-httplib0.11 libbrotli1
for f in *.deb; do dpkg -x "$f" "$root/.deps/root"; done
rm -rf "$root/.deps/root/usr/share"
du -sh "$root/.deps/root"
