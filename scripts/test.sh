#!/usr/bin/env bash
# The test command (README, .ci/run): installs what it needs, builds, runs the
# unit tests plain, under ASan+UBSan and under TSan, fuzzes every parser for a
# short while, then runs the end-to-end scenarios in QEMU guests booting
# Debian's stock kernel.
#
#   scripts/test.sh [--unit-only]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

unit_only=0
[ "${1:-}" = "--unit-only" ] && unit_only=1

step() { printf '\n=== %s\n' "$*"; }

step "set-up"
scripts/setup.sh build vm

step "build (warnings are errors)"
cmake -S . -B build -G Ninja -DTCMU_SWITCH_WERROR=ON
cmake --build build

step "unit tests"
ctest --test-dir build --output-on-failure -j2

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
tests/vm/run-scenarios
