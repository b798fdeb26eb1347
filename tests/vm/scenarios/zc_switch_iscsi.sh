#!/usr/bin/env bash
# zc_switch_iscsi: our handler (user:switch, 3 paths) on the zero-copy kernel
# over iSCSI, whose pages (target-allocated) the kernel maps refcounted: they
# go O_DIRECT through io_uring. Needs the kmod-patches kernel (with
# device-mapper). A multipath LUN over 3 dm-linear maps of one loop device,
# 288 MiB window, exported on 127.0.0.1 and logged in with open-iscsi.
#  1. fio O_DIRECT write + crc32c read back at 4 KiB, 64 KiB, 256 KiB, 1 MiB,
#     zc_enable 0 and 1: the kernel's zc_stats and the handler's counters
#     (D-Bus) agree that ZC was used where eligible, all of it refcounted
#     (nothing special, nothing through the page cache), no O_DIRECT refusal,
#     no path error.
#  2. a path fault under ZC: path 1's map swapped to dm-error under fio write
#     + verify, healed 3 s later: the handler fails it and brings it back, fio
#     sees no error; only path 1 ever failed or counted an error.
# dmesg stays clean.
# vmtest-kernel: zc
. "$(dirname "$0")/lib.sh"
. "$VMTEST_TOP/kmod-patches/tests/zc-lib.sh"
. "$VMTEST_TOP/kmod-patches/tests/zc-switch-lib.sh"

region_sectors=128
size=$((32 << 20))

require_switch_handler
target_up
load_modules iscsi_target_mod iscsi_tcp dm_mod loop
zc_require_kernel
start_iscsid
start_dbus
start_runner

disk=$(zcs_loop_disks 1 $((size >> 20)))
paths=()
for p in 0 1 2; do paths+=("$(dm_path "zmp$p" "$disk")"); done
switch_config "$WORK/zmi/lun.conf" multipath "$region_sectors" "" "${paths[@]}"
bs=$(zc_backstore zmi "switch/$WORK/zmi/lun.conf" "$size" zc_window_mb=288)
expect_opened 3
iqn=$(zc_iscsi_export "$bs" zc-switch)
dev=$(iscsi_login "$iqn" 127.0.0.1)
pass "multipath user:switch over ${paths[*]} with a zero-copy window, over iSCSI: $dev"
check "handler: opted in to the kernel's window" runner_log_has "zero copy: window of 288 MiB"

# ---- 1. sizes, ZC off and on --------------------------------------------------
zcs_sizes iscsi zmi "$bs" "$dev" refcounted

# ---- 2. a path fault under ZC -------------------------------------------------------
path_is() { runner_log_has "path $1 (zmp$1, /dev/mapper/zmp$1) is now $2"; }
w0=$(zc_stat "$bs" zc_writes)
fio_verify fault "$dev" 40 --bs=256k &
fio_pid=$!
sleep 4
dm_fail zmp1
log "path 1 ($(dm table zmp1)) broken"
check "fault: the handler saw path 1 fail" wait_for "path 1 failed" 20 path_is 1 failed
sleep 3
dm_heal zmp1 "$disk"
log "path 1 healed"
check "fault: the prober brought path 1 back" wait_for "path 1 healthy" 20 path_is 1 healthy
check "fault: fio verify, no I/O error, no mismatch" wait "$fio_pid"
zc_log_stats "$bs"
zcs_log zmi
check "fault: the writes were mapped (ZC on)" zc_grew "$w0" "$(zc_stat "$bs" zc_writes)"
check "fault: paths 0 and 2 never failed" bash -c "! grep -Eq 'path [02] .* is now failed' '$RUNNER_LOG'"
check "fault: errors only on path 1" \
  zc_same 0 "$(zcs_summary zmi | jq -r '.paths[0].errors + .paths[2].errors')"
check "fault: no window buffer refused by O_DIRECT, no buffer fault" \
  zc_same 0 "$(($(zcs_counter zmi zc_direct_refused) + $(zcs_counter zmi buffer_faults)))"

must "open-iscsi logged out" iscsi_logout "$iqn" 127.0.0.1
zc_iscsi_unexport "$bs" "$iqn"
remove_backstore "$bs"
dm_remove zmp0 zmp1 zmp2
check "tcmu-runner exits 0 on SIGTERM" stop_runner
losetup -D
check "dmesg: no oops, WARNING, KASAN, lockdep or bad-page report" zc_dmesg_clean
