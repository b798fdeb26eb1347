# Guest helpers for the scenarios that run our handler (user:switch) on the
# zero-copy kernel (tests/vm/scenarios/zc_switch_*.sh), on top of
# tests/vm/guest/lib.sh and kmod-patches/tests/zc-lib.sh. The handler's own
# counters come from its D-Bus object (GetSummary), so start_dbus must run
# before start_runner.

# zcs_loop_disks N MIB: N loop devices over N tmpfs files of MIB MiB each,
# paths on which O_DIRECT really works (tmpfs itself refuses it); prints them.
zcs_loop_disks() {
  local n=$1 mib=$2 i
  mkdir -p "$WORK/disks"
  for ((i = 0; i < n; i++)); do
    truncate -s "${mib}M" "$WORK/disks/d$i"
    losetup --find --show "$WORK/disks/d$i"
  done
}

# zcs_shared_loop_disks N MIB: N loop devices over ONE tmpfs file: paths that
# all reach the same storage, as multipath mode expects; prints them.
zcs_shared_loop_disks() {
  local n=$1 mib=$2 i
  mkdir -p "$WORK/disks"
  truncate -s "${mib}M" "$WORK/disks/shared"
  for ((i = 0; i < n; i++)); do
    losetup --find --show "$WORK/disks/shared"
  done
}

# zcs_summary LUN: the handler's GetSummary for switch LUN (its configfs
# name) as JSON.
# Counters an older handler does not report read as 0, so that its run still
# reaches (and fails) the checks on what it did.
zcs_summary() {
  PYTHONPATH=$VMTEST_TOP/targetcli-plugin /usr/bin/python3 -c '
import json, sys
from tcmu_switch_cli.client import DeviceClient
s = DeviceClient(sys.argv[1]).summary()
for k in ("zc_mapped", "zc_mapped_nogup", "zc_copied", "zc_page_cache_pieces", "zc_direct_refused",
          "buffer_faults"):
    s.setdefault(k, 0)
print(json.dumps(s))' "$1"
}

# zcs_trace_runner: with VMTEST_ZCS_STRACE=1 (and VMTEST_SWITCH_ENGINE=sync,
# whose preadv2/pwritev2 strace can see; io_uring's results it cannot), logs
# every failed path read and write of the runner with its errno to
# $VMTEST_RESULTS/strace.txt: how the handler of a run met no-GUP buffers.
zcs_trace_runner() {
  [ "${VMTEST_ZCS_STRACE:-0}" = 1 ] || return 0
  strace -f -qq -e trace=preadv2,pwritev2,preadv,pwritev -e status=failed \
    -o "$VMTEST_RESULTS/strace.txt" -p "$runner_pid" &
  log "strace on tcmu-runner $runner_pid: failed path I/O goes to strace.txt"
}

# zcs_counter LUN KEY: one device counter of the handler (zc_mapped,
# zc_mapped_nogup, zc_copied, zc_page_cache_pieces, zc_direct_refused,
# buffer_faults, busy).
zcs_counter() { zcs_summary "$1" | jq -r ".$2"; }

# zcs_path_sum LUN KEY: a per-path counter summed over the paths (errors,
# failovers, bounced, ...).
zcs_path_sum() { zcs_summary "$1" | jq -r "[.paths[].$2] | add"; }

zcs_log_summary() {
  log "handler counters of $1: $(jq -c '{zc_mapped, zc_mapped_nogup, zc_copied, zc_page_cache_pieces,
    zc_direct_refused, buffer_faults, errors: [.paths[].errors], bounced: [.paths[].bounced],
    failovers: [.paths[].failovers], states: [.paths[].state]}' <<< "$2")"
}

zcs_log() { zcs_log_summary "$1" "$(zcs_summary "$1")"; }

# zcs_round NAME LUN BACKSTORE_DIR DEV ZC BS KIND: one fio verify round (zc_fio,
# write then read back) and its checks, from one GetSummary before and one
# after (each costs a Python start under TCG). KIND is what a mapped command
# must be in the handler: nogup (tcm_loop's pages: special PTEs) or refcounted
# (iSCSI). Always: no O_DIRECT refusal of a window buffer, no path error, no
# buffer fault, every path healthy. ZC on and BS >= 64 KiB: the kernel mapped
# READs and WRITEs, the handler saw as many commands in the window part KIND
# names as the kernel mapped that way, and (nogup) sent them all through the
# page cache. Otherwise nothing was mapped.
zcs_round() {
  local name=$1 lun=$2 bs_dir=$3 dev=$4 zc=$5 bs=$6 kind=$7
  local s0 s1 cmds0 special0 reads0 writes0 size0
  s0=$(zcs_summary "$lun")
  cmds0=$(zc_stat "$bs_dir" zc_cmds) special0=$(zc_stat "$bs_dir" special_cmds)
  reads0=$(zc_stat "$bs_dir" zc_reads) writes0=$(zc_stat "$bs_dir" zc_writes) size0=$(zc_stat "$bs_dir" fallback_size)
  check "$name: fio O_DIRECT write + read back, crc32c" zc_fio "$name" "$dev" "$bs" randwrite
  zc_log_stats "$bs_dir"
  s1=$(zcs_summary "$lun")
  zcs_log_summary "$lun" "$s1"
  delta() { echo $(($(jq -r ".$1" <<< "$s1") - $(jq -r ".$1" <<< "$s0"))); }
  check "$name: handler: no window buffer refused by O_DIRECT" zc_same 0 "$(jq -r .zc_direct_refused <<< "$s1")"
  check "$name: handler: no path error, no buffer fault" \
    zc_same 0 "$(jq -r '([.paths[].errors] | add) + .buffer_faults' <<< "$s1")"
  check "$name: handler: every path healthy" \
    zc_same 0 "$(jq -r '[.paths[] | select(.state != "healthy")] | length' <<< "$s1")"
  if zc_check_unmapped "$name" "$zc" "$bs" "$bs_dir" "$cmds0" "$size0"; then
    check "$name: handler: no command in the window" zc_same 0 "$(($(delta zc_mapped) + $(delta zc_mapped_nogup)))"
    return 0
  fi
  check "$name: kernel: WRITEs mapped" zc_grew "$writes0" "$(zc_stat "$bs_dir" zc_writes)"
  check "$name: kernel: READs mapped" zc_grew "$reads0" "$(zc_stat "$bs_dir" zc_reads)"
  local nogup pc special mapped
  nogup=$(delta zc_mapped_nogup) pc=$(delta zc_page_cache_pieces) mapped=$(delta zc_mapped)
  special=$(($(zc_stat "$bs_dir" special_cmds) - special0))
  if [ "$kind" = nogup ]; then
    check "$name: kernel: commands mapped with special PTEs" zc_grew 0 "$special"
    check "$name: handler: as many no-GUP commands as the kernel's special ones ($nogup, $special)" \
      zc_same "$special" "$nogup"
    check "$name: handler: no-GUP commands through the page cache ($pc pieces >= $nogup commands)" \
      test "$pc" -ge "$nogup"
  else
    check "$name: handler: refcounted window commands ($mapped)" zc_grew 0 "$mapped"
    check "$name: kernel and handler: no special PTE, nothing through the page cache" \
      zc_same 0 "$((special + nogup + pc))"
  fi
}

# zcs_sizes PREFIX NAME BACKSTORE_DIR DEV KIND: zcs_round at 4k, 64k, 256k and
# 1m, with zc_enable 0 and then 1; rounds are named PREFIX-zc<0|1>-<bs>.
zcs_sizes() {
  local prefix=$1 name=$2 bs=$3 dev=$4 kind=$5 zc b
  for zc in 0 1; do
    zc_set "$bs" zc_enable "$zc"
    for b in 4k 64k 256k 1m; do
      zcs_round "$prefix-zc$zc-$b" "$name" "$bs" "$dev" "$zc" "$b" "$kind"
    done
  done
}
