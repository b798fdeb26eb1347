#!/usr/bin/env bash
# scale_bench.sh: how one tcmu-runner scales with user:switch LUNs (issue #16),
# in one QEMU guest on Debian's stock kernel (not a test): 1, 4, 16 and 64 LUNs,
# the runner's threads (all, and the switch engine's), RSS and total 4 KiB
# random-read IOPS. See tests/bench/scale_bench_vm.sh.
#
#   tests/bench/scale_bench.sh [--kernel BZIMAGE]
# SCALE_STEPS ("1 4 16 64") and SCALE_SECONDS (5) tune it.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
kernel_args=()
if [ "${1:-}" = --kernel ]; then kernel_args=(--kernel "$2"); fi
for v in SCALE_STEPS SCALE_SECONDS; do
  [ -z "${!v:-}" ] || export "VMTEST_$v=${!v}"
done
out=${VMTEST_BUILD:-$top/build}/vm/results/scale_bench
"$top/tests/vm/run-guest" "${kernel_args[@]}" --timeout 3600 --out "$out" \
  "$top/tests/bench/scale_bench_vm.sh" | grep -E '^(PASS|FAIL)|run-guest:' || true
cat "$out/results/scale-bench.txt"
