#!/usr/bin/env bash
# tools/fuzz_smoke.sh [SECONDS] — a short libFuzzer campaign per target (default 10 s each).
#
# Builds the asan-ubsan preset (clang-14, ASan+UBSan, libFuzzer coverage; the same build as
# `tools/test.sh --asan`, so after it this is only a check) and runs every fuzz_<target> it
# built, one after another, over a scratch copy of fuzz/corpus/<target> with
# fuzz/dict/<target>.dict (when there is one). Each run is bounded: SECONDS of fuzzing,
# 60 s per input (wall clock, on a shared machine), 2 GiB of RSS. Prints one line per target (executions, coverage); a target
# that crashes, leaks, hangs or runs out of memory fails the run (exit 1) after the other
# targets ran, with its log tail and artifact named. The scratch folder of a failed target,
# with its artifact, stays in build/asan-ubsan/fuzz-smoke/<target>; a passing one is removed.
# Longer campaigns, and keeping a crash as a corpus input, are fuzz/run's job
# (docs/fuzzing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-10}
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: tools/fuzz_smoke.sh [SECONDS per target]" >&2
  exit 2
fi
bash tools/build.sh asan-ubsan
build=$root/build/asan-ubsan
scratch_root=$build/fuzz-smoke
rm -rf "$scratch_root"

# Prints "execs=N cov=C ft=F exec/s=R" from a libFuzzer log (-print_final_stats=1): cov and
# ft from its last status line.
summarize() {
  local log=$1 done_line execs rate cov ft
  done_line=$(grep -E '^#[0-9]+.* cov: ' "$log" | tail -1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")
  echo "execs=${execs:-?} cov=${cov:-?} ft=${ft:-?} exec/s=${rate:-?}"
}

# run_target NAME: one bounded campaign; returns libFuzzer's exit status.
run_target() {
  local name=$1 work=$scratch_root/$1 dict_args=()
  mkdir -p "$work/corpus" "$work/artifacts"
  cp "$root/fuzz/corpus/$name"/* "$work/corpus/"
  if [ -f "$root/fuzz/dict/$name.dict" ]; then dict_args=(-dict="$root/fuzz/dict/$name.dict"); fi
  (cd "$work" && "$build/fuzz/fuzz_$name" "$work/corpus" "${dict_args[@]}" \
     -max_total_time="$seconds" -timeout=60 -rss_limit_mb=2048 -print_final_stats=1 \
     -artifact_prefix="$work/artifacts/" >"$work/fuzz.log" 2>&1)
}

targets=()
for bin in "$build"/fuzz/fuzz_*; do
  name=${bin##*/fuzz_}
  [[ $name == *_replay ]] && continue
  [ -x "$bin" ] || continue
  targets+=("$name")
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz_smoke: no fuzz_<target> binaries in $build/fuzz (is clang-14 installed?)" >&2
  exit 1
fi

failed=()
for name in "${targets[@]}"; do
  if [ ! -d "fuzz/corpus/$name" ]; then
    echo "fuzz_smoke: $name FAILED: no seed corpus fuzz/corpus/$name" >&2
    failed+=("$name")
    continue
  fi
  status=0
  run_target "$name" || status=$?
  work=$scratch_root/$name
  if [ "$status" -eq 0 ]; then
    echo "fuzz_smoke: $name ok ${seconds}s $(summarize "$work/fuzz.log")"
    rm -rf "$work"
    continue
  fi
  failed+=("$name")
  tail -n 60 "$work/fuzz.log" >&2
  artifacts=$(ls "$work"/artifacts/ 2>/dev/null | sed "s|^|$work/artifacts/|" | tr '\n' ' ' | sed 's/ $//')
  echo "fuzz_smoke: $name FAILED (exit $status); artifact: ${artifacts:-none}; log: $work/fuzz.log" >&2
  echo "fuzz_smoke: replay it with $build/fuzz/fuzz_${name}_replay <artifact>" >&2
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz_smoke: ${#failed[@]} of ${#targets[@]} target(s) failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz_smoke: ${#targets[@]} targets, ${seconds}s each, no crash"
