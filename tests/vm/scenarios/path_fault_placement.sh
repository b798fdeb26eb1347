#!/usr/bin/env bash
# path_fault_placement: a 3-path user:switch LUN in placement mode (each path
# holds its own regions) whose paths are dm-linear maps over three RAM disks.
# After a verified fill, path 1's map is swapped to dm-error. A placement LUN
# must never fail over: reads of path 1's regions fail with an I/O error (the
# handler's MEDIUM ERROR, which the block layer reports as ENODATA; fio sees it),
# every other region still returns exactly its own path's data (checked
# against the RAM disks beneath), and the handler never marks a path failed.
# Healed, the LUN reads back whole again.
. "$(dirname "$0")/lib.sh"

region_sectors=128
regions=480
size=$((regions * region_sectors * 512))   # 30 MiB, a multiple of fill's 96 KiB
rams=(/dev/ram0 /dev/ram1 /dev/ram2)

require_switch_handler
target_up
ram_disks 3 $((size / 1024))
start_runner

paths=()
for p in 0 1 2; do paths+=("$(dm_path "pl$p" "${rams[p]}")"); done
placement_loop_lun "$WORK/placement" "$region_sectors" "$regions" "$size" "${paths[@]}"
pass "placement user:switch LUN over ${paths[*]} is $dev"

check "fio sequential fill + verify" fio_fill fill "$dev"
check "every region on the path the table names" \
  placement_check "$dev" "$region_sectors" "$regions" "${rams[@]}"

dm_fail pl1
log "path 1 broken: $(dm table pl1)"
# fio reads the LUN in region-sized commands and must stop at the first
# region of path 1 with ENODATA (61: MEDIUM ERROR) or EIO (5), not read
# anything in its place.
fio_sees_eio() {
  ! fio --name=eio --filename="$dev" --ioengine=libaio --direct=1 --rw=read --bs=64k \
    --output-format=json --eta=never --output="$VMTEST_RESULTS/fio-eio.json" &&
    python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["jobs"][0]["error"]; print("fio error", e); sys.exit(e not in (5, 61))' \
      "$VMTEST_RESULTS/fio-eio.json"
}
check "fio reading the LUN sees the I/O error" fio_sees_eio
check "path 1's regions fail with an I/O error, all others return their own data" \
  python3 "$here_lib/placement.py" faulted --lun "$dev" --region-bytes $((region_sectors * 512)) \
  --regions "$regions" --faulted 1 "${rams[@]}"
check "placement mode never failed over" eval '! runner_log_has "is now failed"'

dm_heal pl1 /dev/ram1
check "healed: every region reads back from the path the table names" \
  placement_check "$dev" "$region_sectors" "$regions" "${rams[@]}"

remove_loop_lun "$bs"
remove_backstore "$bs"
dm_remove pl0 pl1 pl2
pass "LUN, backstore and dm maps removed"
check "tcmu-runner exits 0 on SIGTERM" stop_runner
