#!/usr/bin/env bash
# Unpacks the Debian packages that a build machine without them (e.g. a GPU host where nothing can be
# installed) needs for the text module and the HTTP server, into .deps/root (git-ignored). Build there
# with CMAKE_PREFIX_PATH=$PWD/.deps/root/usr and LD_LIBRARY_PATH=$PWD/.deps/root/usr/lib/x86_64-linux-gnu.
# httplib.h includes the brotli, OpenSSL and zlib headers, so their -dev packages come too.
# Run on a Debian machine with network access to the package mirror.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/.deps/debs" "$root/.deps/root"
cd "$root/.deps/debs"
apt-get download libpcre2-dev libpcre2-8-0 libcpp-httplib-dev libcpp-httplib0.11 libbrotli1 libbrotli-dev libssl-dev zlib1g-dev
for f in *.deb; do dpkg -x "$f" "$root/.deps/root"; done
rm -rf "$root/.deps/root/usr/share"
find "$root/.deps/root" -name "*.a" -delete  # static libraries are never linked
# Their pkg-config files say prefix=/usr: CMake finds the header and library by path instead.
rm -rf "$root/.deps/root/usr/lib/x86_64-linux-gnu/pkgconfig"
du -sh "$root/.deps/root"
