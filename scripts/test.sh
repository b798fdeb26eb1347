#!/usr/bin/env bash
# The test command (README, .ci/run): installs what it needs, builds, runs the
# unit tests plain, under ASan+UBSan and under TSan, fuzzes every parser for a
# short while, then runs the end-to-end scenarios in QEMU guests booting
# Debian's stock kernel, builds the kmod-patches kernel and runs the
# zero-copy scenarios on it.
#
#   scripts/test.sh [--unit-only]
#
# The patched kernel's tree and ccache live in $KBUILD_DIR (default
# /var/cache/tcmu-switch/kbuild, outside the clone): a cold build takes
# ~15 min on 2 cores, a rebuild after a fresh clone a minute or two.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

unit_only=0
[ "${1:-}" = "--unit-only" ] && unit_only=1

# Every step's wall time goes into the table printed at exit, pass or fail,
# so a slow CI run shows where its minutes went.
steps=() step_name="" step_start=0 run_start=$(date +%s)
end_step() {
  if [ -n "$step_name" ]; then
    steps+=("$(printf '%6d s  %s' $(($(date +%s) - step_start)) "$step_name")")
  fi
  step_name=""
}
step() {
  end_step
  step_name=$*
  step_start=$(date +%s)
  printf '\n=== %s\n' "$*"
}
timing_table() {
  end_step
  printf '\n=== step timings\n'
  printf '%s\n' "${steps[@]}"
  printf '%6d s  total\n' $(($(date +%s) - run_start))
}
trap timing_table EXIT

step "set-up"
scripts/setup.sh build vm

step "build (warnings are errors)"
cmake -S . -B build -G Ninja -DTCMU_SWITCH_WERROR=ON
cmake --build build

step "unit tests"
ctest --test-dir build --output-on-failure -j2

step "Debian package (cpack; lintian must be silent)"
(cd build && cpack -G DEB)
lintian --fail-on warning,error build/tcmu-switch_*.deb

step "unit tests under ASan+UBSan"
cmake -S . -B build-asan -G Ninja -DTCMU_SWITCH_WERROR=ON -DTCMU_SWITCH_SANITIZE=address
cmake --build build-asan
ctest --test-dir build-asan --output-on-failure -j2

step "unit tests under TSan (suppressions: tests/tsan.supp)"
cmake -S . -B build-tsan -G Ninja -DTCMU_SWITCH_WERROR=ON -DTCMU_SWITCH_SANITIZE=thread
cmake --build build-tsan
ctest --test-dir build-tsan --output-on-failure -j2

step "fuzzing: ${FUZZ_SECONDS:-30} s per target (libFuzzer, ASan+UBSan)"
FUZZ_BUILD_DIR=$top/build-fuzz tests/fuzz/run.sh "${FUZZ_SECONDS:-30}"

[ "$unit_only" = 1 ] && exit 0

step "end-to-end scenarios in a guest (stock Debian kernel)"
stock_rc=0
tests/vm/run-scenarios || stock_rc=$?

step "guest kernel with the kmod-patches series (zero copy)"
scripts/setup.sh kernel
export KBUILD_DIR=${KBUILD_DIR:-/var/cache/tcmu-switch/kbuild}
bzimage=$(kmod-patches/build-kernel.sh | tail -n1)

step "zero-copy scenarios in a guest (patched kernel)"
zc_rc=0
mapfile -t zc_scenarios < <(tests/vm/run-scenarios --list zc)  # their `# vmtest-kernel: zc` lines
tests/vm/run-scenarios --kernel "$bzimage" "${zc_scenarios[@]}" || zc_rc=$?

step "summary"
echo "stock-kernel scenarios: $([ "$stock_rc" = 0 ] && echo passed || echo FAILED)"
echo "patched-kernel scenarios: $([ "$zc_rc" = 0 ] && echo passed || echo FAILED)"
[ "$stock_rc" = 0 ] && [ "$zc_rc" = 0 ]
