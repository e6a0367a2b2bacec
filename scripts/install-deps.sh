#!/usr/bin/env bash
# Installs the Debian packages sambay needs to build and test, if any is missing.
# Usage: scripts/install-deps.sh [test]   ("test" adds what the test suite needs: clang for fuzzing)
set -euo pipefail

packages=(build-essential cmake ninja-build pkg-config
          nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
          libopenblas-openmp-dev libpcre2-dev libcpp-httplib-dev libgtest-dev)
if [[ "${1:-}" == "test" ]]; then
  packages+=(clang-14 libclang-rt-14-dev libomp-14-dev libbenchmark-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "installing: ${missing[*]}"
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update
$sudo apt-get install -y --no-install-recommends "${missing[@]}"
