#!/usr/bin/env bash
# path_fault_multipath: a 3-path user:switch LUN in multipath mode whose paths
# are three dm-linear maps over one RAM disk (so all reach the same storage).
# Under fio random write + crc32c verify, each path in turn goes bad (its map
# swapped to dm-error: every I/O fails with EIO) and is healed a few seconds
# later. The handler must log the path failed, keep serving from the others
# (fio sees no error and no verify mismatch), and log it healthy again once
# its prober reads from it after the heal.
. "$(dirname "$0")/lib.sh"

region_sectors=128
regions=1536
size=$((regions * region_sectors * 512))
fio_seconds=120  # 3 faults x ~25 s under TCG (fail, 3 s down, heal, probe), with slack
down_seconds=3

require_switch_handler
target_up
ram_disks 1 $((size / 1024))
start_runner

paths=()
for p in 0 1 2; do paths+=("$(dm_path "mp$p" /dev/ram0)"); done
conf=$WORK/mp/lun.conf
switch_config "$conf" multipath "$region_sectors" "" "${paths[@]}"
bs=$(user_backstore lun0 "switch/$conf" "$size")
dev=$(loop_lun "$bs")
pass "multipath user:switch LUN over ${paths[*]} is $dev"

path_is() { runner_log_has "path $1 (mp$1, /dev/mapper/mp$1) is now $2"; }

fio_verify faults "$dev" "$fio_seconds" &
fio_pid=$!
survived=0
for p in 0 1 2; do
  failed_before=$nr_failed
  sleep 2
  dm_fail "mp$p"
  log "path $p ($(dm table "mp$p")) broken"
  check "path $p: the handler saw it fail" wait_for "path $p failed" 20 path_is "$p" failed
  sleep "$down_seconds"
  dm_heal "mp$p" /dev/ram0
  log "path $p healed"
  check "path $p: the prober brought it back" wait_for "path $p healthy" 20 path_is "$p" healthy
  check "fio still running after the fault of path $p" kill -0 "$fio_pid"
  [ "$nr_failed" != "$failed_before" ] || survived=$((survived + 1))
done
check "fio verify: no I/O error, no mismatch through the path faults" wait "$fio_pid"
log "path faults survived (failed over and restored under fio): $survived of 3"

remove_loop_lun "$bs"
remove_backstore "$bs"
dm_remove mp0 mp1 mp2
pass "LUN, backstore and dm maps removed"
check "tcmu-runner exits 0 on SIGTERM" stop_runner
