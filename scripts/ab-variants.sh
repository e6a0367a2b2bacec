#!/usr/bin/env bash
# Prepares an A/B comparison of source versions for scripts/gpu-ab.sh: for each REV, the files under
# src/ that differ between any of the REVs and the checked-out tree, as they are at REV, go into a
# tarball in .deps/ab/ (git-ignored, carried to the GPU machine with .deps).
# Usage: scripts/ab-variants.sh REV...
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
rm -rf .deps/ab
mkdir -p .deps/ab
files=$(for rev in "$@"; do git diff --name-only "$rev" -- src; done | sort -u)
[[ -n "$files" ]] || { echo "the revisions do not differ from the tree under src/" >&2; exit 1; }
echo "$files" >.deps/ab/FILES
# The tree's own versions, to restore between and after the builds; files the tree lacks are listed
# in ABSENT and removed on restore.
present=$(for f in $files; do [[ -e "$f" ]] && echo "$f"; done)
for f in $files; do [[ -e "$f" ]] || echo "$f"; done >.deps/ab/ABSENT
# shellcheck disable=SC2086  # one path per word
tar -czf .deps/ab/tree.tar.gz $present
for rev in "$@"; do
  # A file that REV lacks is left out; gpu-ab.sh then builds the tree's version of it (if any).
  present=$(for f in $files; do git cat-file -e "$rev:$f" 2>/dev/null && echo "$f"; done)
  # shellcheck disable=SC2086
  git archive --format=tar.gz -o ".deps/ab/$rev.tar.gz" "$rev" $present
  echo "$rev" >>.deps/ab/REVS
done
echo "prepared $(wc -l <.deps/ab/REVS) versions of $(wc -l <.deps/ab/FILES) files"
