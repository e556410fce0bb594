#!/usr/bin/env bash
# Builds the simulator's Python module in build/release (the release preset) with
# profile-guided optimization: an instrumented build in build/pgo-train runs the benchmark
# scenarios and the quickstart suite, and the release build is compiled with the profile
# they leave in build/pgo-profile. Takes about twice a plain release build; the simulator
# then needs 15-20 % less CPU (docs/benchmarks.md, "Profile-guided optimization").
# GCC only. Later builds of build/release keep the profile (code changed since then is
# compiled as without it); `cmake --preset release -DMAILSIM_PGO=` turns it off.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=$PWD/build/pgo-profile
rm -rf "$profile"
cmake --preset release -B build/pgo-train -DMAILSIM_PGO=generate -DMAILSIM_PGO_DIR="$profile" \
  -DMAILSIM_BUILD_TESTS=OFF -DMAILSIM_BUILD_BENCH=OFF >/dev/null
cmake --build build/pgo-train -j2 --target _core
# The runs the profile is taken from: connections reused (throughput), a connection per
# attempt with greylisting and warm-up (the 1 M scenario's shape), and every kind of
# scenario the quickstart suite has.
train() { MAILSIM_BUILD_DIR=build/pgo-train bash tools/mailsim run "$@" --quiet >/dev/null; }
train bench/sim/throughput.yaml.j2 --set total=30000
train bench/sim/million.yaml.j2 --set total=30000
train scenarios/quickstart
cmake --preset release -DMAILSIM_PGO=use -DMAILSIM_PGO_DIR="$profile" >/dev/null
cmake --build --preset release --target _core
