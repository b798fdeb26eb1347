#!/usr/bin/env bash
# zc_switch_bench.sh: zero-copy benchmark of our handler in one QEMU guest (not
# a test). Boots the kmod-patches kernel (which needs CONFIG_BLK_DEV_NULL_BLK,
# in kmod-patches/config/qemu-tcmu.config) with four 192 MiB brd RAM disks and
# runs tests/bench/zc_switch_bench_vm.sh: user:switch with zero copy on (ZC)
# and off (copy) next to LIO fileio, on null_blk paths (memory_backed=0) and
# brd paths, over tcm_loop and iSCSI, 256 KiB and 1 MiB, read and write, in
# interleaved rounds; prints the table (median MB/s and spread, ratios, CPU
# seconds per GiB). Under TCG only the ratios of one run mean anything.
#
#   tests/bench/zc_switch_bench.sh [--kernel BZIMAGE]
# Default kernel: .deps/kbuild/linux-6.1.192-ci/arch/x86/boot/bzImage
# (kmod-patches/build-kernel.sh). ZC_BENCH_SECONDS (3), ZC_BENCH_IODEPTH (16)
# and ZC_BENCH_ROUNDS (5) tune it.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
kernel=$top/.deps/kbuild/linux-6.1.192-ci/arch/x86/boot/bzImage
if [ "${1:-}" = --kernel ]; then kernel=$2; fi
[ -f "$kernel" ] || { echo "zc_switch_bench.sh: no kernel at $kernel: run kmod-patches/build-kernel.sh" >&2; exit 2; }
for v in ZC_BENCH_SECONDS ZC_BENCH_IODEPTH ZC_BENCH_ROUNDS; do
  [ -z "${!v:-}" ] || export "VMTEST_$v=${!v}"
done
out=${VMTEST_BUILD:-$top/build}/vm/results/zc_switch_bench
"$top/tests/vm/run-guest" --kernel "$kernel" --append "brd.rd_nr=4 brd.rd_size=$((192 * 1024))" \
  --timeout 5400 --out "$out" "$top/tests/bench/zc_switch_bench_vm.sh" | grep -E '^(PASS|FAIL)|run-guest:' || true
cat "$out/results/zc-switch-bench.txt"
