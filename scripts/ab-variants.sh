#!/usr/bin/env bash
# Prepares an A/B comparison of versions of one source file for scripts/gpu-ab.sh: writes
# `git show REV:FILE` for each REV into .deps/ab/ (git-ignored, carried to the GPU machine with .deps).
# Usage: scripts/ab-variants.sh FILE REV...
set -euo pipefail
file=${1:?source file}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$root/.deps/ab"
mkdir -p "$root/.deps/ab"
echo "$file" >"$root/.deps/ab/FILE"
for rev in "$@"; do
  git -C "$root" show "$rev:$file" >"$root/.deps/ab/$rev"
  echo "$rev" >>"$root/.deps/ab/REVS"
done
echo "prepared $(wc -l <"$root/.deps/ab/REVS") versions of $file"
