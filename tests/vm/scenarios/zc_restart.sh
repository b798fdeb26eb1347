#!/usr/bin/env bash
# zc_restart: tcmu-runner killed (SIGKILL) and restarted while zero-copy
# commands are in flight. Needs the kmod-patches kernel (run-guest --kernel).
# The LUNs are user:switch (this tree's handler, which opts in to zero copy).
# fio writes 256 KiB commands with crc32c verification to a tcm_loop LUN and
# an iSCSI LUN, both with zero copy on; the runner dies mid-run and comes
# back; the reopened device resets its ring (libtcmu), which must tear down
# the live slots, and the initiators' retries complete. fio must finish with
# every block verified, and nothing may oops.
# vmtest-kernel: zc
. "$(dirname "$0")/lib.sh"
. "$VMTEST_TOP/kmod-patches/tests/zc-lib.sh"

size=$((32 * 1024 * 1024))

zc_iscsi_up

bl=$(zc_switch_backstore zc_rs_loop "$size" zc_window_mb=64 zc_nogup_slots=16)
bi=$(zc_switch_backstore zc_rs_iscsi "$size" zc_window_mb=64)
for b in "$bl" "$bi"; do zc_set "$b" zc_enable 1; done
zc_set "$bl" zc_special_enable 1
dl=$(loop_lun "$bl")
iqn=$(zc_iscsi_export "$bi" zc-restart)
di=$(iscsi_login "$iqn" 127.0.0.1)
pass "LUNs: tcm_loop $dl, iSCSI $di"

for d in "$dl" "$di"; do
  n=$(basename "$d")
  fio --name="restart-$n" --filename="$d" --ioengine=libaio --direct=1 --iodepth=8 \
    --rw=randwrite --bs=256k --size=16m --verify=crc32c --do_verify=1 --verify_fatal=1 \
    --output-format=json --eta=never --output="$VMTEST_RESULTS/fio-restart-$n.json" &
  eval "fio_$n=\$!"
done
sleep 4
kill_runner
log "tcmu-runner killed with commands in flight"
sleep 1
start_runner
for d in "$dl" "$di"; do
  n=$(basename "$d")
  eval "pid=\$fio_$n"
  if wait "$pid"; then
    pass "restart: fio on $d verified every block across the restart"
  else
    fail "restart: fio on $d" "fio failed (see fio-restart-$n.json)"
  fi
done
zc_log_stats "$bl"
zc_log_stats "$bi"
check "restart: tcm_loop commands were mapped" zc_grew 0 "$(zc_stat "$bl" special_cmds)"
check "restart: iSCSI commands were mapped" zc_grew 0 "$(zc_stat "$bi" zc_cmds)"

iscsi_logout "$iqn" 127.0.0.1 || fail "restart: logout" "iscsiadm --logout failed"
zc_iscsi_unexport "$bi" "$iqn"
remove_loop_lun "$bl"
remove_backstore "$bl"
remove_backstore "$bi"
check "tcmu-runner exits 0 on SIGTERM" stop_runner
check "dmesg: no oops, WARNING, KASAN, lockdep or bad-page report" zc_dmesg_clean
