# Sourced by the GPU scripts: the CUDA toolchain on PATH, the packages scripts/carry-deps.sh unpacked
# into .deps/ (the text module's PCRE2 and the server's cpp-httplib, where the GPU host lacks them),
# and the CUDA release build of the given targets in build-gpu/.
# gpu_build LOG_DIR TARGET... : configure and build (sources changed since the last build in any way
# are rebuilt); on failure prints the errors and returns 1.
gpu_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH=/usr/local/cuda/bin:$PATH
if [[ -d "$gpu_root/.deps/root/usr" ]]; then
  gpu_deps="$gpu_root/.deps/root/usr"
  export CMAKE_PREFIX_PATH="$gpu_deps${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  export LD_LIBRARY_PATH="$gpu_deps/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

# Sources whose content differs from the last build's get a fresh time: a tree copied onto a machine
# that kept build-gpu/ may carry times older than the objects built from another version, and ninja
# compares times only.
gpu_touch_changed() {
  local manifest=build-gpu/source-hashes
  mkdir -p build-gpu
  find src tests CMakeLists.txt -type f -print0 | sort -z | xargs -0 sha1sum >"$manifest.new"
  if [[ -f "$manifest" ]]; then
    diff "$manifest" "$manifest.new" | awk '/^> / {print $3}' | xargs -r touch
  fi
  mv "$manifest.new" "$manifest"
}

gpu_build() {
  local logs=$1
  shift
  (cd "$gpu_root" && gpu_touch_changed)
  (cd "$gpu_root" &&
    cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DSAMBAY_CUDA=ON -DSAMBAY_BENCH=OFF \
      >"$logs/configure.log" 2>&1) || { echo "configure failed"; tail -30 "$logs/configure.log"; return 1; }
  (cd "$gpu_root" && cmake --build build-gpu -j "$(nproc)" --target "$@" >"$logs/build.log" 2>&1) ||
    { echo "build failed"; grep -E "error" "$logs/build.log" | head -40; return 1; }
}
