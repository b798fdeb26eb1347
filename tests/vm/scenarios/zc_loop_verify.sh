#!/usr/bin/env bash
# zc_loop_verify: zero copy on the initiator's own pages through tcm_loop, the
# vm_insert_pages_mkspecial() path. Needs the kmod-patches kernel (run-guest
# --kernel). A user:switch backstore (this tree's handler, which opts in to
# zero copy and to no-GUP slots) with a 288 MiB window whose last 32 slots
# take special PTEs, on a tmpfs file, behind a tcm_loop LUN. fio O_DIRECT
# (anonymous, GUP-held pages) writes and reads back 8 MiB with crc32c at 4 KiB,
# 64 KiB, 256 KiB and 1 MiB with zc_enable 0 and 1; then a buffered write
# (page cache under writeback) and, after dropping caches, a buffered verify
# (locked page-cache pages). zc_stats must show the special class used where
# eligible and nothing mapped while off. Then tcmu-runner's file handler,
# which does not opt in, with zc_enable=1: nothing may be mapped. dmesg stays
# clean.
# vmtest-kernel: zc
. "$(dirname "$0")/lib.sh"
. "$VMTEST_TOP/kmod-patches/tests/zc-lib.sh"

size=$((64 * 1024 * 1024))

target_up
zc_require_kernel
start_runner

bs=$(zc_switch_backstore zc_loop "$size" zc_window_mb=288 zc_nogup_slots=32)
pass "user:switch with a zero-copy window: $(tr -s '\n ' ' ' < "$bs/info")"
check "zc_special_enable=1 accepted with zc_nogup_slots=32" zc_set "$bs" zc_special_enable 1
dev=$(loop_lun "$bs")
pass "tcm_loop LUN: $dev"

for zc in 0 1; do
  zc_set "$bs" zc_enable "$zc"
  for b in 4k 64k 256k 1m; do
    name="loop-zc$zc-$b"
    cmds0=$(zc_stat "$bs" zc_cmds) sp0=$(zc_stat "$bs" special_cmds)
    r0=$(zc_stat "$bs" zc_reads) w0=$(zc_stat "$bs" zc_writes) size0=$(zc_stat "$bs" fallback_size)
    check "$name: fio O_DIRECT write + read back, crc32c" zc_fio "$name" "$dev" "$b" randwrite
    zc_log_stats "$bs"
    if ! zc_check_unmapped "$name" "$zc" "$b" "$bs" "$cmds0" "$size0"; then
      check "$name: commands mapped with special PTEs" zc_grew "$sp0" "$(zc_stat "$bs" special_cmds)"
      check "$name: WRITEs mapped" zc_grew "$w0" "$(zc_stat "$bs" zc_writes)"
      check "$name: READs mapped" zc_grew "$r0" "$(zc_stat "$bs" zc_reads)"
    fi
  done
done

# Page cache: buffered writes reach tcmu under writeback, buffered reads on
# locked pages.
sp0=$(zc_stat "$bs" special_cmds)
check "loop-buffered: fio buffered write 256 KiB + fsync" \
  fio --name=loop-buffered --filename="$dev" --ioengine=psync --direct=0 --rw=write --bs=256k \
    --size=16m --end_fsync=1 --verify=crc32c --do_verify=0 --eta=never --output=/dev/null
sync
echo 3 > /proc/sys/vm/drop_caches
check "loop-buffered: buffered read back, crc32c" \
  fio --name=loop-buffered --filename="$dev" --ioengine=psync --direct=0 --rw=write --bs=256k \
    --size=16m --verify=crc32c --verify_only=1 --verify_fatal=1 --eta=never --output=/dev/null
zc_log_stats "$bs"
check "loop-buffered: page-cache commands mapped with special PTEs" \
  zc_grew "$sp0" "$(zc_stat "$bs" special_cmds)"

remove_loop_lun "$bs"
remove_backstore "$bs"

# A handler that does not opt in (tcmu-runner's file handler never writes
# zc_handler_caps) gets the copy path, whatever the administrator enables.
img=$WORK/zc-file.img
truncate -s "$size" "$img"
bf=$(zc_backstore zc_file "file/$img" "$size" zc_window_mb=64 zc_nogup_slots=16)
zc_set "$bf" zc_enable 1
zc_set "$bf" zc_special_enable 1
df=$(loop_lun "$bf")
check "user:file (no opt-in), zc_enable=1: fio O_DIRECT 256 KiB write + read back, crc32c" \
  zc_fio loop-file-256k "$df" 256k randwrite
zc_log_stats "$bf"
check "user:file (no opt-in): no command mapped" zc_same 0 "$(zc_stat "$bf" zc_cmds)"
check "user:file (no opt-in): commands counted as fallback_handler" \
  zc_grew 0 "$(zc_stat "$bf" fallback_handler)"
remove_loop_lun "$bf"
remove_backstore "$bf"

check "tcmu-runner exits 0 on SIGTERM" stop_runner
check "dmesg: no oops, WARNING, KASAN, lockdep or bad-page report" zc_dmesg_clean
