#!/usr/bin/env bash
# Builds the libFuzzer targets in their own build dir (clang, ASan+UBSan) and
# runs each for SECONDS (default 30, the CI run) from its committed seeds in
# corpus/<target>/. New inputs go to the build dir's working corpus, never
# back into the tree. Prints the executions per target; exits non-zero if any
# target crashed, leaked, hit a sanitizer or a FUZZ_CHECK, or timed out on
# one input, with the reproducer's path (re-run: <target> <reproducer>).
#
#   tests/fuzz/run.sh [SECONDS]        build dir: $FUZZ_BUILD_DIR or build-fuzz
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-30}
build=${FUZZ_BUILD_DIR:-$top/build-fuzz}
targets=(fuzz_table_text fuzz_table_binary fuzz_device_config fuzz_cfgstring)

# The compiler only on the first configure: naming it again in another
# spelling makes CMake wipe the cache and rebuild everything.
compilers=()
[ -f "$build/CMakeCache.txt" ] || compilers=(-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++)
cmake -S "$top" -B "$build" -G Ninja -DTCMU_SWITCH_FUZZ=ON "${compilers[@]}" > /dev/null
cmake --build "$build" --target "${targets[@]}"

failed=0
summary=()
for t in "${targets[@]}"; do
  work=$build/fuzz/$t
  mkdir -p "$work/corpus" "$work/artifacts"
  log=$work/run.log
  rc=0
  # -timeout: one input may take 25 s at most (under a loaded CI host), so a
  # parser that goes quadratic is reported, not waited for.
  "$build/tests/fuzz/$t" -max_total_time="$secs" -timeout=25 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" "$top/tests/fuzz/corpus/$t" > "$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [ "$rc" = 0 ]; then
    summary+=("$(printf '%-20s %10s executions in %s s, corpus %s inputs: ok' "$t" "${execs:-?}" "$secs" \
      "$(ls "$work/corpus" | wc -l)")")
  else
    failed=$((failed + 1))
    summary+=("$(printf '%-20s %10s executions: FAILED (exit %s), see %s' "$t" "${execs:-?}" "$rc" "$log")")
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*FUZZ_CHECK failed|.*runtime error)|Test unit written to' "$log" | head -n 5 |
      sed 's/^/    /' || true
  fi
done

echo
echo "==== fuzzing, $secs s per target (build dir $build) ===="
printf '%s\n' "${summary[@]}"
[ "$failed" = 0 ]
