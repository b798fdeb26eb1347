#!/usr/bin/env bash
# zc_switch_loop: our handler (user:switch, 3 paths) on the zero-copy kernel
# through tcm_loop, whose pages the kernel maps with special PTEs (no-GUP):
# O_DIRECT on them fails with EEXIST, so the handler must send them through
# the page cache and never blame a path. Needs the kmod-patches kernel.
#  1. placement LUN over 3 loop devices (O_DIRECT works there, not on tmpfs),
#     288 MiB window, 32 no-GUP slots, zc_special_enable=1: fio O_DIRECT write
#     + crc32c read back at 4 KiB, 64 KiB, 256 KiB, 1 MiB with zc_enable 0
#     and 1; the kernel's zc_stats and the handler's counters (D-Bus) agree
#     that ZC was used where eligible, every no-GUP command went through the
#     page cache, none was refused by O_DIRECT, no path error or failure.
#  2. the same LUN filled under ZC, then the placement oracle: every region on
#     the path the table names.
#  3. multipath LUN over 3 loop devices on one file: ZC writes and reads fail
#     no path over (the old handler failed every path in turn on EEXIST).
#  4. tcmu-runner SIGKILLed under ZC writes to the placement LUN and
#     restarted: every acknowledged write verifies, the new runner opts in to
#     ZC again and maps, the regions stay on their paths.
# dmesg stays clean.
# vmtest-kernel: zc
. "$(dirname "$0")/lib.sh"
. "$VMTEST_TOP/kmod-patches/tests/zc-lib.sh"
. "$VMTEST_TOP/kmod-patches/tests/zc-switch-lib.sh"

region_sectors=128  # 64 KiB
regions=384         # 24 MiB: LUN and each path
size=$((regions * region_sectors * 512))
zc_control=(zc_window_mb=288 zc_nogup_slots=32)

require_switch_handler
target_up
zc_require_kernel
load_modules loop
start_dbus
start_runner
zcs_trace_runner

mapfile -t paths < <(zcs_loop_disks 3 $((size >> 20)))
conf=$(placement_setup "$WORK/zcp" "$region_sectors" "$regions" "${paths[@]}")
bs=$(zc_backstore zcp "switch/$conf" "$size" "${zc_control[@]}")
check "zc_special_enable=1 accepted" zc_set "$bs" zc_special_enable 1
dev=$(loop_lun "$bs")
pass "placement user:switch over ${paths[*]} with a zero-copy window, tcm_loop LUN $dev"
check "handler: opted in to the kernel's window" runner_log_has "zero copy: window of 288 MiB"

# ---- 1. sizes, ZC off and on --------------------------------------------------
zcs_sizes loop zcp "$bs" "$dev" nogup

# ---- 2. the placement oracle under ZC ---------------------------------------------
check "fio sequential fill (96 KiB, mapped) + verify under ZC" fio_fill fill "$dev"
check "every region on the path the table names" \
  placement_check "$dev" "$region_sectors" "$regions" "${paths[@]}"

# ---- 3. multipath: a ZC buffer fails no path over -------------------------------------
mapfile -t mpaths < <(zcs_shared_loop_disks 3 16)
switch_config "$WORK/zcm/lun.conf" multipath "$region_sectors" "" "${mpaths[@]}"
mbs=$(zc_backstore zcm "switch/$WORK/zcm/lun.conf" $((16 << 20)) "${zc_control[@]}")
zc_set "$mbs" zc_special_enable 1
zc_set "$mbs" zc_enable 1
mdev=$(loop_lun "$mbs")
pass "multipath user:switch over ${mpaths[*]} (one file), tcm_loop LUN $mdev"
for b in 64k 1m; do
  zcs_round "loop-multipath-$b" zcm "$mbs" "$mdev" 1 "$b" nogup
done
check "multipath: no failover" zc_same 0 "$(zcs_path_sum zcm failovers)"
check "multipath: no path ever logged failed" bash -c "! grep -q 'is now failed' '$RUNNER_LOG'"
remove_loop_lun "$mbs"
remove_backstore "$mbs"

# ---- 4. tcmu-runner SIGKILL under ZC ------------------------------------------------
opened_at_least() { [ "$(grep -c 'opened: placement' "$RUNNER_LOG")" -ge "$1" ]; }
# Rate-limited so that writes are in flight at the kill; each block once.
fio --name=kill --filename="$dev" --ioengine=libaio --direct=1 --iodepth=8 \
  --rw=randwrite --bs=128k --size="$size" --rate=3m \
  --verify=crc32c --do_verify=1 --verify_fatal=1 \
  --output-format=json --eta=never --output="$VMTEST_RESULTS/fio-kill.json" &
fio_pid=$!
sleep 3
kill -0 "$fio_pid" || die "runner kill" "fio ended before the kill: nothing was in flight"
kill_runner
log "tcmu-runner killed (SIGKILL) under zero-copy writes"
sleep 2
start_runner
check "restart: the new runner opened the device through our handler" \
  wait_for "the second open" 30 opened_at_least 2
if wait "$fio_pid"; then
  python3 "$here_lib/fio-summary.py" "$VMTEST_RESULTS/fio-kill.json" &&
    pass "every acknowledged write read back and verified across the runner kill"
else
  fail "fio across the runner kill" "fio failed (see fio-kill.json)"
fi
zcs_log zcp
check "restart: the new handler opted in again and got no-GUP commands" \
  zc_grew 0 "$(zcs_counter zcp zc_mapped_nogup)"
check "restart: no window buffer refused by O_DIRECT, no path error" \
  zc_same 0 "$(($(zcs_counter zcp zc_direct_refused) + $(zcs_path_sum zcp errors)))"
check "every region still on the path the table names" \
  placement_check "$dev" "$region_sectors" "$regions" "${paths[@]}"
remove_loop_lun "$bs"
remove_backstore "$bs"

check "tcmu-runner exits 0 on SIGTERM" stop_runner
check "handler: the close log names the zero-copy counters" runner_log_has "zero copy: commands"
losetup -D
check "dmesg: no oops, WARNING, KASAN, lockdep or bad-page report" zc_dmesg_clean
