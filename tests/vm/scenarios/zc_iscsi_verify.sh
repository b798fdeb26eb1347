#!/usr/bin/env bash
# zc_iscsi_verify: zero copy on target-allocated pages, the refcounted
# vm_insert_pages() path. Needs the kmod-patches kernel (run-guest --kernel).
# A user:switch backstore (this tree's handler, which opts in to zero copy)
# with a 288 MiB zero-copy window, on a tmpfs file,
# exported over iSCSI on 127.0.0.1 and logged in with open-iscsi. fio writes
# and reads back 8 MiB with crc32c at 4 KiB, 64 KiB, 256 KiB and 1 MiB, with
# zc_enable 0 and then 1. zc_stats must show nothing mapped while off, 4 KiB
# commands (below zc_min_len) copied, larger READs and WRITEs mapped and
# faulted in, and no fallback for page kind or alignment. zc_read_mode=2 is
# refused; deferred WRITE unmaps are flushed when zc_enable goes to 0. dmesg
# stays clean.
# vmtest-kernel: zc
. "$(dirname "$0")/lib.sh"
. "$VMTEST_TOP/kmod-patches/tests/zc-lib.sh"

size=$((64 * 1024 * 1024))

zc_iscsi_up

bs=$(zc_switch_backstore zc_iscsi "$size" zc_window_mb=288)
pass "user:switch with a zero-copy window: $(tr -s '\n ' ' ' < "$bs/info")"
check "zc_enable defaults to 0" [ "$(cat "$bs/attrib/zc_enable")" = 0 ]
check "zc_min_len defaults to 65536" [ "$(cat "$bs/attrib/zc_min_len")" = 65536 ]
raw_reads_refused() { ! zc_set "$bs" zc_read_mode 2 2> /dev/null && [ "$(cat "$bs/attrib/zc_read_mode")" = 1 ]; }
check "zc_read_mode=2 (unzeroed READ pages) is refused" raw_reads_refused
iqn=$(zc_iscsi_export "$bs" zc-iscsi)
dev=$(iscsi_login "$iqn" 127.0.0.1)
pass "open-iscsi logged in: $dev"

for zc in 0 1; do
  zc_set "$bs" zc_enable "$zc"
  for b in 4k 64k 256k 1m; do
    name="iscsi-zc$zc-$b"
    cmds0=$(zc_stat "$bs" zc_cmds) w0=$(zc_stat "$bs" zc_writes) r0=$(zc_stat "$bs" zc_reads)
    size0=$(zc_stat "$bs" fallback_size) f0=$(zc_stat "$bs" faults)
    page0=$(zc_stat "$bs" fallback_page) align0=$(zc_stat "$bs" fallback_align)
    check "$name: fio write + read back, crc32c" zc_fio "$name" "$dev" "$b" randwrite
    zc_log_stats "$bs"
    if ! zc_check_unmapped "$name" "$zc" "$b" "$bs" "$cmds0" "$size0"; then
      check "$name: WRITEs mapped" zc_grew "$w0" "$(zc_stat "$bs" zc_writes)"
      check "$name: READs mapped" zc_grew "$r0" "$(zc_stat "$bs" zc_reads)"
      check "$name: the handler faulted window pages in" zc_grew "$f0" "$(zc_stat "$bs" faults)"
      check "$name: no fallback for page kind" zc_same "$page0" "$(zc_stat "$bs" fallback_page)"
      check "$name: no fallback for alignment" zc_same "$align0" "$(zc_stat "$bs" fallback_align)"
    fi
  done
done
check "no special (no-GUP) commands over iSCSI" [ "$(zc_stat "$bs" special_cmds)" = 0 ]

# Completed WRITEs whose unmap is deferred (zc_unmap_batch) do not stay
# mapped once zero copy is turned off.
zc_set "$bs" zc_unmap_batch 100
st0=$(zc_stat "$bs" stale_flushes) w0=$(zc_stat "$bs" zc_writes)
check "batch 100: fio 2 MiB of 256 KiB writes" fio --name=stale --filename="$dev" --ioengine=libaio \
  --direct=1 --rw=write --bs=256k --size=2m --eta=never --output=/dev/null
check "batch 100: the WRITEs were mapped" zc_grew "$w0" "$(zc_stat "$bs" zc_writes)"
check "batch 100: their unmap is still deferred" zc_same "$st0" "$(zc_stat "$bs" stale_flushes)"
zc_set "$bs" zc_enable 0
check "zc_enable=0 zaps the deferred WRITE slots at once" zc_grew "$st0" "$(zc_stat "$bs" stale_flushes)"
zc_log_stats "$bs"

must "open-iscsi logged out" iscsi_logout "$iqn" 127.0.0.1
zc_iscsi_unexport "$bs" "$iqn"
remove_backstore "$bs"
check "tcmu-runner exits 0 on SIGTERM" stop_runner
check "dmesg: no oops, WARNING, KASAN, lockdep or bad-page report" zc_dmesg_clean
