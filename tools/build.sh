#!/usr/bin/env bash
# Configures and builds one CMake preset (default: dev). Usage: tools/build.sh [preset]
# The sanitizer presets (asan-ubsan, tsan) build with clang-14, which tools/setup.sh installs;
# the tsan preset builds only mailsim-server (its build preset names the target).
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-dev}
case "$preset" in
  asan-ubsan|tsan)
    if ! command -v clang++-14 >/dev/null; then
      echo "build.sh: the $preset preset needs clang++-14 (bash tools/setup.sh installs it)" >&2
      exit 1
    fi ;;
esac
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
