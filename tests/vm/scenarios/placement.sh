#!/usr/bin/env bash
# placement: a 3-path user:switch LUN in placement mode over three brd RAM
# disks, through tcm_loop. fio fills and verifies it, random writes follow,
# then each RAM disk is read directly: every region's data must be on the path
# the table names (placement.py is the oracle) and nowhere else. Then the
# SCSI the handler answers itself (lib/scsi.sh): a FUA write from the
# initiator reaches a path as a FUA write and a plain one does not (on a
# one-path LUN of its own), and a second initiator's WRITE racing COMPARE AND
# WRITE on one block loses nothing.
# vmtest-append: trace_event=block:block_bio_queue
. "$(dirname "$0")/lib.sh"

region_sectors=128          # 64 KiB
regions=1536                # LUN and each RAM disk: 96 MiB, a multiple of fill's 96 KiB
size=$((regions * region_sectors * 512))
paths=(/dev/ram0 /dev/ram1 /dev/ram2)

require_switch_handler
target_up
ram_disks 3 $((size / 1024))
start_runner

placement_loop_lun "$WORK/placement" "$region_sectors" "$regions" "$size" "${paths[@]}"
expect_opened 3
pass "user:switch backstore created (placement, ${#paths[@]} paths), tcm_loop LUN $dev"

check "fio sequential fill + verify" fio_fill fill "$dev"
check "fio random write + verify" fio_verify random "$dev" 4
check "every region on the path the table names" \
  placement_check "$dev" "$region_sectors" "$regions" "${paths[@]}"

fua_check
second=$(loop_lun "$bs" "second:$bs")
caw_race "$dev" "$second" 12
remove_loop_lun "$bs" "second:$bs"

remove_loop_lun "$bs"
remove_backstore "$bs"
pass "LUN and backstore removed"
check "tcmu-runner exits 0 on SIGTERM" stop_runner
