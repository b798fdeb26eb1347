#!/usr/bin/env bash
# zc_timeout_sink: a stalled handler with cmd_time_out=1 on zero-copy
# commands. Needs the kmod-patches kernel (run-guest --kernel). The LUNs are
# user:switch (this tree's handler, which opts in to zero copy). tcmu-runner is
# stopped (SIGSTOP) while a 256 KiB O_DIRECT WRITE and READ go to a tcm_loop
# LUN with zero copy on; both time out, the kernel parks their slots and fails
# them. The runner is resumed and handles the stale entries: its accesses to
# the parked slots must hit the sink page (counted in zc_stats), not SIGBUS,
# and nothing may oops. Afterwards the LUN works and verifies again. Then the
# same over iSCSI (refcounted pages).
# vmtest-kernel: zc
. "$(dirname "$0")/lib.sh"
. "$VMTEST_TOP/kmod-patches/tests/zc-lib.sh"

size=$((32 * 1024 * 1024))

zc_iscsi_up

parked_grew() { zc_grew "$1" "$(zc_stat "$2" parked)"; }
sink_grew() { zc_grew "$1" "$(zc_stat "$2" sink_faults)"; }

# stall_and_resume NAME BACKSTORE DEV
stall_and_resume() {
  local name=$1 bs=$2 dev=$3 parked0 sink0 wpid rpid
  parked0=$(zc_stat "$bs" parked)
  sink0=$(zc_stat "$bs" sink_faults)
  kill -STOP "$runner_pid"
  log "$name: tcmu-runner stopped"
  dd if=/dev/urandom of="$dev" bs=256k count=1 seek=3 oflag=direct 2> "$WORK/$name-dd-w.err" &
  wpid=$!
  dd if="$dev" of=/dev/null bs=256k count=1 skip=7 iflag=direct 2> "$WORK/$name-dd-r.err" &
  rpid=$!
  if wait_for "both commands to time out" 120 parked_grew $((parked0 + 1)) "$bs"; then
    pass "$name: the kernel parked the timed-out slots"
  else
    fail "$name: commands parked" "zc_stats parked stayed below $((parked0 + 2))"
  fi
  kill -CONT "$runner_pid"
  log "$name: tcmu-runner resumed"
  wait "$wpid" || log "$name: the stalled WRITE failed, as a timed-out command should: $(tail -n1 "$WORK/$name-dd-w.err")"
  wait "$rpid" || log "$name: the stalled READ failed, as a timed-out command should: $(tail -n1 "$WORK/$name-dd-r.err")"
  wait_for "the handler to touch the parked slots" 60 sink_grew "$sink0" "$bs" || true
  zc_log_stats "$bs"
  check "$name: the handler's accesses to parked slots hit the sink page" \
    sink_grew "$sink0" "$bs"
  check "$name: tcmu-runner survived (no SIGBUS)" runner_alive
  check "$name: the LUN verifies after the stall" zc_fio "$name-after" "$dev" 256k randwrite
}

# tcm_loop, special PTEs
bs=$(zc_switch_backstore zc_to_loop "$size" zc_window_mb=64 zc_nogup_slots=16)
echo 1 > "$bs/attrib/cmd_time_out"
zc_set "$bs" zc_enable 1
zc_set "$bs" zc_special_enable 1
dev=$(loop_lun "$bs")
check "loop: the LUN verifies before the stall" zc_fio loop-before "$dev" 256k randwrite
stall_and_resume loop "$bs" "$dev"
remove_loop_lun "$bs"
remove_backstore "$bs"

# iSCSI, refcounted PTEs
bs=$(zc_switch_backstore zc_to_iscsi "$size" zc_window_mb=64)
echo 1 > "$bs/attrib/cmd_time_out"
zc_set "$bs" zc_enable 1
iqn=$(zc_iscsi_export "$bs" zc-timeout)
dev=$(iscsi_login "$iqn" 127.0.0.1)
check "iscsi: the LUN verifies before the stall" zc_fio iscsi-before "$dev" 256k randwrite
stall_and_resume iscsi "$bs" "$dev"
iscsi_logout "$iqn" 127.0.0.1 || fail "iscsi: logout" "iscsiadm --logout failed"
zc_iscsi_unexport "$bs" "$iqn"
remove_backstore "$bs"

check "tcmu-runner exits 0 on SIGTERM" stop_runner
check "dmesg: no oops, WARNING, KASAN, lockdep or bad-page report" zc_dmesg_clean
