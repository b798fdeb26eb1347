#!/usr/bin/env bash
# zc_iscsi_verify: zero copy on target-allocated pages, the refcounted
# vm_insert_pages() path. Needs the kmod-patches kernel (run-guest --kernel).
# A user:file backstore with a 288 MiB zero-copy window, on a tmpfs file,
# exported over iSCSI on 127.0.0.1 and logged in with open-iscsi. fio writes
# and reads back 8 MiB with crc32c at 4 KiB, 64 KiB, 256 KiB and 1 MiB, with
# zc_enable 0 and then 1. zc_stats must show nothing mapped while off, 4 KiB
# commands (below zc_min_len) copied, larger READs and WRITEs mapped and
# faulted in, and no fallback for page kind or alignment. dmesg stays clean.
# vmtest-kernel: zc
. "$(dirname "$0")/lib.sh"
. "$VMTEST_TOP/kmod-patches/tests/zc-lib.sh"

size=$((64 * 1024 * 1024))
img=$WORK/zc-iscsi.img

zc_iscsi_up
truncate -s "$size" "$img"

bs=$(zc_backstore zc_iscsi "file/$img" "$size" zc_window_mb=288)
pass "user:file with a zero-copy window: $(tr -s '\n ' ' ' < "$bs/info")"
check "zc_enable defaults to 0" [ "$(cat "$bs/attrib/zc_enable")" = 0 ]
check "zc_min_len defaults to 65536" [ "$(cat "$bs/attrib/zc_min_len")" = 65536 ]
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

must "open-iscsi logged out" iscsi_logout "$iqn" 127.0.0.1
zc_iscsi_unexport "$bs" "$iqn"
remove_backstore "$bs"
check "tcmu-runner exits 0 on SIGTERM" stop_runner
check "dmesg: no oops, WARNING, KASAN, lockdep or bad-page report" zc_dmesg_clean
