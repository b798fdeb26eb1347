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
zcs_summary() {
  PYTHONPATH=$VMTEST_TOP/targetcli-plugin /usr/bin/python3 -c '
import json, sys
from tcmu_switch_cli.client import DeviceClient
print(json.dumps(DeviceClient(sys.argv[1]).summary()))' "$1"
}

# zcs_counter LUN KEY: one device counter of the handler (zc_mapped,
# zc_mapped_nogup, zc_copied, zc_page_cache_pieces, zc_direct_refused,
# buffer_faults, busy).
zcs_counter() { zcs_summary "$1" | jq -r ".$2"; }

# zcs_path_sum LUN KEY: a per-path counter summed over the paths (errors,
# failovers, bounced, ...).
zcs_path_sum() { zcs_summary "$1" | jq -r "[.paths[].$2] | add"; }

# zcs_paths_failed LUN: how many paths are not healthy.
zcs_paths_failed() { zcs_summary "$1" | jq -r '[.paths[] | select(.state != "healthy")] | length'; }

zcs_log() {
  log "handler counters of $1: $(zcs_summary "$1" | jq -c '{zc_mapped, zc_mapped_nogup, zc_copied,
    zc_page_cache_pieces, zc_direct_refused, buffer_faults, errors: [.paths[].errors],
    bounced: [.paths[].bounced], failovers: [.paths[].failovers], states: [.paths[].state]}')"
}

# zcs_snapshot LUN BACKSTORE_DIR: remembers the kernel's and the handler's
# counters before a round (in zcs_before_*).
zcs_snapshot() {
  local s
  s=$(zcs_summary "$1")
  zcs_before_mapped=$(jq -r .zc_mapped <<< "$s")
  zcs_before_nogup=$(jq -r .zc_mapped_nogup <<< "$s")
  zcs_before_pc=$(jq -r .zc_page_cache_pieces <<< "$s")
  zcs_before_cmds=$(zc_stat "$2" zc_cmds)
  zcs_before_special=$(zc_stat "$2" special_cmds)
  zcs_before_reads=$(zc_stat "$2" zc_reads)
  zcs_before_writes=$(zc_stat "$2" zc_writes)
  zcs_before_size=$(zc_stat "$2" fallback_size)
}

# zcs_round NAME LUN BACKSTORE_DIR DEV ZC BS KIND: one fio verify round (zc_fio,
# write then read back) and its checks. KIND is what a mapped command must be
# in the handler: nogup (tcm_loop's pages: special PTEs) or refcounted (iSCSI).
# Always: no O_DIRECT refusal of a window buffer, no path error, no path
# failed, no buffer fault. ZC on and BS >= 64 KiB: the kernel mapped READs and
# WRITEs, the handler saw them in the window part KIND names, and (nogup) sent
# every such command through the page cache. Otherwise nothing was mapped.
zcs_round() {
  local name=$1 lun=$2 bs_dir=$3 dev=$4 zc=$5 bs=$6 kind=$7
  zcs_snapshot "$lun" "$bs_dir"
  check "$name: fio O_DIRECT write + read back, crc32c" zc_fio "$name" "$dev" "$bs" randwrite
  zc_log_stats "$bs_dir"
  zcs_log "$lun"
  check "$name: handler: no window buffer refused by O_DIRECT" zc_same 0 "$(zcs_counter "$lun" zc_direct_refused)"
  check "$name: handler: no path error, no buffer fault" \
    zc_same 0 "$(($(zcs_path_sum "$lun" errors) + $(zcs_counter "$lun" buffer_faults)))"
  check "$name: handler: every path healthy" zc_same 0 "$(zcs_paths_failed "$lun")"
  if zc_check_unmapped "$name" "$zc" "$bs" "$bs_dir" "$zcs_before_cmds" "$zcs_before_size"; then
    check "$name: handler: no command in the window" zc_same \
      "$((zcs_before_mapped + zcs_before_nogup))" \
      "$(($(zcs_counter "$lun" zc_mapped) + $(zcs_counter "$lun" zc_mapped_nogup)))"
    return 0
  fi
  check "$name: kernel: WRITEs mapped" zc_grew "$zcs_before_writes" "$(zc_stat "$bs_dir" zc_writes)"
  check "$name: kernel: READs mapped" zc_grew "$zcs_before_reads" "$(zc_stat "$bs_dir" zc_reads)"
  local nogup pc special
  nogup=$(($(zcs_counter "$lun" zc_mapped_nogup) - zcs_before_nogup))
  pc=$(($(zcs_counter "$lun" zc_page_cache_pieces) - zcs_before_pc))
  special=$(($(zc_stat "$bs_dir" special_cmds) - zcs_before_special))
  if [ "$kind" = nogup ]; then
    check "$name: kernel: commands mapped with special PTEs" zc_grew 0 "$special"
    check "$name: handler: as many no-GUP commands as the kernel's special ones ($nogup, $special)" \
      zc_same "$special" "$nogup"
    check "$name: handler: no-GUP commands through the page cache ($pc pieces >= $nogup commands)" \
      test "$pc" -ge "$nogup"
  else
    check "$name: handler: refcounted window commands" zc_grew "$zcs_before_mapped" "$(zcs_counter "$lun" zc_mapped)"
    check "$name: kernel and handler: no special PTE, nothing through the page cache" \
      zc_same 0 "$((special + nogup + pc))"
  fi
}
