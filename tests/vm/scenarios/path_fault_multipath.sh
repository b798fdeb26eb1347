#!/usr/bin/env bash
# path_fault_multipath: a 3-path user:switch LUN in multipath mode whose paths
# are three dm-linear maps over scsi_debug disks that share one store (so all
# reach the same storage): mp0 and mp1 over the first host's disk, mp2 over
# the second's. Under fio random write + crc32c verify, each path in turn
# goes bad and comes back a few seconds later:
# - paths 0 and 1: the map swapped to dm-error (every I/O fails with EIO);
#   the handler fails the path at its first I/O error;
# - path 2: the scsi_debug host under it removed, as when a disk goes away,
#   then added again and the map pointed at its new disk. The kernel's remove
#   uevent for the disk beneath the map fails the path, or an I/O error does
#   if it comes first; either way within 1 s of the removal.
# Then, with the LUN idle, path 2's disk is removed once more: now only the
# uevent can fail it, and the time from the removal to the logged failure is
# the uevent-to-failed figure (under 1 s).
# The handler must keep serving from the other paths (fio sees no error and
# no verify mismatch) and log each path healthy again once its prober reads
# from it.
. "$(dirname "$0")/lib.sh"

region_sectors=128
regions=1536
size=$((regions * region_sectors * 512))
fio_seconds=120  # 3 faults x ~25 s under TCG (fail, 3 s down, heal, probe), with slack
down_seconds=3
scsi_debug=/sys/bus/pseudo/drivers/scsi_debug

# The scsi_debug disks, one per host, oldest host first: by SCSI host number,
# not by disk name, since hosts are scanned in parallel and the second host's
# disk may be named first (and "add_host=-1" removes the newest host).
scsi_debug_disks() {
  local b host
  for b in "$scsi_debug"/adapter*/host*/target*/*/block/*; do
    [ -e "$b" ] || continue
    host=${b#"$scsi_debug"/adapter*/host}
    echo "${host%%/*} /dev/${b##*/}"
  done | sort -n | cut -d' ' -f2
}
disk_count_is() { [ "$(scsi_debug_disks | wc -l)" = "$1" ]; }

require_switch_handler
target_up
# Hosts share one store (per_host_store=0), so every disk shows the same
# data; delay=0 answers at once instead of a jiffy later.
load_modules dm_mod
modprobe scsi_debug dev_size_mb=$((size / 1048576)) add_host=2 delay=0 ||
  die "$VMTEST_NAME" "cannot load scsi_debug"
wait_for "two scsi_debug disks" 30 disk_count_is 2 || die "$VMTEST_NAME" "scsi_debug made no two disks"
mapfile -t disks < <(scsi_debug_disks)
start_runner

paths=("$(dm_path mp0 "${disks[0]}")" "$(dm_path mp1 "${disks[0]}")" "$(dm_path mp2 "${disks[1]}")")
conf=$WORK/mp/lun.conf
switch_config "$conf" multipath "$region_sectors" "" "${paths[@]}"
bs=$(user_backstore lun0 "switch/$conf" "$size")
expect_opened 3
dev=$(loop_lun "$bs")
pass "multipath user:switch LUN over ${paths[*]} (on ${disks[*]}) is $dev"

path_is() { runner_log_has "path $1 (mp$1, /dev/mapper/mp$1) is now $2"; }

# ms since the epoch of the runner's last log line that holds $1; fails if
# there is none.
log_time_ms() {
  local stamp
  stamp=$(grep -F -- "$1" "$RUNNER_LOG" | tail -1 | cut -c1-23)
  [ -n "$stamp" ] && date -d "$stamp" +%s%3N
}

# ms between t0 (ms since the epoch) and the runner's log line about path 2 failing.
ms_to_failed() {
  local t
  t=$(log_time_ms "path 2 (mp2, /dev/mapper/mp2) is now failed") && echo $((t - $1))
}
# A failure logged after the removal, and within 1 s of it.
within_1s() { [ -n "$1" ] && [ "$1" -ge 0 ] && [ "$1" -le 1000 ]; }

# Path 2: its disk removed under it. Under fio, SCSI fails the disk's I/O as
# the removal begins, before del_gendisk sends the remove uevent, so an I/O
# error may fail the path first; either way within 1 s.
remove_disk_under_path2() {
  local t0 ms
  t0=$(date +%s%3N)
  echo -1 > "$scsi_debug/add_host"
  log "scsi_debug host of ${disks[1]} removed"
  check "path 2: the handler saw it fail" wait_for "path 2 failed" 20 path_is 2 failed
  check "path 2: the handler heard the remove uevent of the disk under mp2" wait_for "the uevent" 10 \
    runner_log_has "path 2 (mp2, /dev/mapper/mp2): uevent remove of"
  ms=$(ms_to_failed "$t0") || ms=
  log "path 2 failed $ms ms after the host removal, by $(grep -q 'uevent remove of .*path failed' "$RUNNER_LOG" &&
    echo 'the remove uevent' || echo 'an I/O error (the uevent came later)')"
  check "path 2: failed within 1 s of the removal (${ms:-no failure logged} ms)" within_1s "$ms"
}

# The host back with a new disk, and mp2 pointed at it.
readd_disk_under_path2() {
  echo 1 > "$scsi_debug/add_host"
  wait_for "the new scsi_debug disk" 30 disk_count_is 2 || die "$VMTEST_NAME" "no new scsi_debug disk"
  local disk
  disk=$(scsi_debug_disks | tail -1)
  dm_heal mp2 "$disk"
  log "path 2 healed: mp2 now over $disk"
  check "path 2: the handler read what mp2 sits on again" wait_for "mp2 restacked" 10 \
    runner_log_has "path 2 (mp2, /dev/mapper/mp2): uevent change of"
}

# With the LUN idle no I/O error can fail path 2: only the remove uevent does.
idle_removal_fails_path2_by_uevent() {
  local failures t0 ms
  failures=$(runner_log_count "path 2 (mp2, /dev/mapper/mp2) is now failed")
  t0=$(date +%s%3N)
  echo -1 > "$scsi_debug/add_host"
  check "idle path 2: failed by the remove uevent" wait_for "path 2 failed by uevent" 20 \
    grep -q "path 2 (mp2, /dev/mapper/mp2): uevent remove of .*path failed" "$RUNNER_LOG"
  [ "$(runner_log_count "path 2 (mp2, /dev/mapper/mp2) is now failed")" -gt "$failures" ] ||
    die "$VMTEST_NAME" "no new failure of path 2 in the log"
  ms=$(ms_to_failed "$t0") || ms=
  log "uevent to path failed: $ms ms from the host removal to the logged failure;" \
    "$(grep -o -- '[0-9]* us after the uevent arrived' "$RUNNER_LOG" | tail -1) in the handler"
  check "idle path 2: failed within 1 s of the removal (${ms:-no failure logged} ms)" within_1s "$ms"
  readd_disk_under_path2
  check "idle path 2: the prober brought it back" wait_for "path 2 healthy" 20 runner_log_has_n \
    "path 2 (mp2, /dev/mapper/mp2) is now healthy" 2
}
runner_log_count() { grep -c -F -- "$1" "$RUNNER_LOG" || true; }
runner_log_has_n() { [ "$(runner_log_count "$1")" -ge "$2" ]; }

fio_verify faults "$dev" "$fio_seconds" &
fio_pid=$!
survived=0
for p in 0 1 2; do
  failed_before=$nr_failed
  sleep 2
  if [ "$p" = 2 ]; then
    remove_disk_under_path2
  else
    dm_fail "mp$p"
    log "path $p ($(dm table "mp$p")) broken"
    check "path $p: the handler saw it fail" wait_for "path $p failed" 20 path_is "$p" failed
  fi
  sleep "$down_seconds"
  if [ "$p" = 2 ]; then readd_disk_under_path2; else dm_heal "mp$p" "${disks[0]}" && log "path $p healed"; fi
  check "path $p: the prober brought it back" wait_for "path $p healthy" 20 path_is "$p" healthy
  check "fio still running after the fault of path $p" kill -0 "$fio_pid"
  [ "$nr_failed" != "$failed_before" ] || survived=$((survived + 1))
done
check "fio verify: no I/O error, no mismatch through the path faults" wait "$fio_pid"
log "path faults survived (failed over and restored under fio): $survived of 3"
idle_removal_fails_path2_by_uevent

remove_loop_lun "$bs"
remove_backstore "$bs"
dm_remove mp0 mp1 mp2
pass "LUN, backstore and dm maps removed"
check "tcmu-runner exits 0 on SIGTERM" stop_runner
