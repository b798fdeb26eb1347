#!/usr/bin/env bash
# zc_guest.sh: zero-copy benchmark in one QEMU guest (not a test). Boots the
# kmod-patches kernel and runs tests/bench/zc_guest_vm.sh: 256 KiB writes and
# reads over iSCSI loopback to user:file with zero copy on, the same with it
# off (copy path), and LIO fileio; prints MB/s and ZC/copy, ZC/fileio ratios.
# Under TCG only the ratios of one run mean anything.
#
#   tests/bench/zc_guest.sh [--kernel BZIMAGE]
# Default kernel: .deps/kbuild/linux-6.1.192-ci/arch/x86/boot/bzImage
# (kmod-patches/build-kernel.sh). ZC_BENCH_SECONDS, ZC_BENCH_IODEPTH, ZC_BENCH_ROUNDS tune it.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
kernel=$top/.deps/kbuild/linux-6.1.192-ci/arch/x86/boot/bzImage
if [ "${1:-}" = --kernel ]; then kernel=$2; fi
[ -f "$kernel" ] || { echo "zc_guest.sh: no kernel at $kernel: run kmod-patches/build-kernel.sh" >&2; exit 2; }
for v in ZC_BENCH_SECONDS ZC_BENCH_IODEPTH ZC_BENCH_ROUNDS; do
  [ -z "${!v:-}" ] || export "VMTEST_$v=${!v}"
done
out=${VMTEST_BUILD:-$top/build}/vm/results/zc_guest
"$top/tests/vm/run-guest" --kernel "$kernel" --timeout 1800 --out "$out" "$top/tests/bench/zc_guest_vm.sh" |
  grep -E '^(PASS|FAIL)|run-guest:' || true
cat "$out/results/zc-bench.txt"
