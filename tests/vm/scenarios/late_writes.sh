#!/usr/bin/env bash
# late_writes (issue #20): a command the initiator was told failed must never
# change data afterwards. Multipath user:switch LUNs over three dm-linear maps
# of one RAM disk (brd cannot deallocate), behind tcm_loop, in one boot:
#  1. cmd_time_out 1 s, a pattern in place: one UNMAP of the whole LUN (as
#     many descriptors as the Block Limits page allows) and one WRITE SAME
#     with UNMAP of the whole LUN, which must be written as zeroes and
#     outlives the timeout; then 16 64 KiB markers, each acknowledged; once
#     the paths are idle, every marker must still be there.
#  2. cmd_time_out 3 s: a WRITE held in the handler past it (its path's dm
#     map suspended); the table then moves the region to another path and
#     newer data is written to the same blocks; after the resume the newer
#     data is what reads back.
#  3. mkfs.ext4 (whole-LUN discard) on a 1 GiB LUN at the default 30 s
#     cmd_time_out: no I/O error in the kernel log meanwhile; the longest
#     command the handler logged (it logs those over 1 s) is reported.
. "$(dirname "$0")/lib.sh"
. "$here_lib/late-writes.sh"

region_sectors=128          # 64 KiB regions
small=$((256 << 20))        # LUN of checks 1 and 2
big=$((1 << 30))            # LUN of check 3
names=(lw0 lw1 lw2)

require_switch_handler
target_up
ram_disks 1 $((big / 1024))
start_runner
paths=()
for p in 0 1 2; do paths+=("$(dm_path "${names[p]}" /dev/ram0)"); done
dir=$WORK/late
mkdir -p "$dir"

# ---- 1. a timed-out UNMAP must not wipe later writes ---------------------------
switch_config "$dir/rr.conf" multipath "$region_sectors" "" "${paths[@]}"
pattern_fill /dev/ram0 "$small"
bs=$(timed_backstore lun0 "switch/$dir/rr.conf" "$small" 1)
dev=$(loop_lun "$bs")
pass "multipath LUN over ${paths[*]}, cmd_time_out 1 s: $dev"
log "READ CAPACITY (16): $(sg_readcap --16 "$dev" | { grep -i 'lbprz' || true; } | tr -s ' ')"

read -r lbas nums <<< "$(unmap_descriptors "$dev" $((small / 512)))"
log "UNMAP descriptors: LBAs $lbas, counts $nums"
t0=$(date +%s%N)
unmap_rc=0
sg_unmap --force --lba="$lbas" --num="$nums" "$dev" || unmap_rc=$?
log "sg_unmap exited $unmap_rc after $((($(date +%s%N) - t0) / 1000000)) ms"
t0=$(date +%s%N)
ws_rc=0
sg_write_same --16 --unmap --lba=0 --num=$((small / 512)) "$dev" || ws_rc=$?
log "sg_write_same --unmap exited $ws_rc after $((($(date +%s%N) - t0) / 1000000)) ms"
acked=0
slice=$((small / 16))
for i in $(seq 0 15); do
  # The end of each slice: what a zero-fill running from the start reaches last.
  if write_at "$dev" "$(marker_file "$i")" $((i * slice + slice - 65536)); then acked=$((acked + 1)); fi
done
check "16 markers written after the UNMAP returned, each acknowledged" [ "$acked" = 16 ]
log "paths idle after $(wait_paths_idle 120 "${names[@]}") s"
sync
echo 3 > /proc/sys/vm/drop_caches
kept=0
for i in $(seq 0 15); do
  if holds_at "$dev" "$(marker_file "$i")" $((i * slice + slice - 65536)); then kept=$((kept + 1)); fi
done
log "markers surviving: $kept of 16 (UNMAP exit status $unmap_rc, WRITE SAME $ws_rc)"
check "every acknowledged marker survives the UNMAP and the timed-out WRITE SAME ($kept of 16)" [ "$kept" = 16 ]

# cmd_time_out changes only while the LUN is not exported; the handler
# rereads it within a second.
remove_loop_lun "$bs"
echo 3 > "$bs/attrib/cmd_time_out"
sleep 1
dev=$(loop_lun "$bs")
pass "the LUN again, cmd_time_out 3 s: $dev"

# ---- 2. a WRITE held past cmd_time_out must not land on newer data ------------
regions=$((small / (region_sectors * 512)))
one_path_table "$dir/p0.txt" "$regions" 0
one_path_table "$dir/p1.txt" "$regions" 1
switch_config "$dir/p0.conf" multipath "$region_sectors" "$dir/p0.txt" "${paths[@]}"
switch_config "$dir/p1.conf" multipath "$region_sectors" "$dir/p1.txt" "${paths[@]}"
must "table: every region on path 0" set_dev_config "$bs" "switch/$dir/p0.conf"
block_file "$dir/old" "old data"
block_file "$dir/new" "newer data"
at=$((100 << 20))
dm suspend "${names[0]}"
old_rc=0
write_at "$dev" "$dir/old" "$at" || old_rc=$?
log "the write held on a suspended path returned $old_rc"
check "the held write was failed back to the initiator" [ "$old_rc" != 0 ]
must "table: every region on path 1" set_dev_config "$bs" "switch/$dir/p1.conf"
write_at "$dev" "$dir/new" "$at" &
new_pid=$!
sleep 0.5
dm resume "${names[0]}"
check "the newer write is acknowledged" wait "$new_pid"
log "paths idle after $(wait_paths_idle 60 "${names[@]}") s"
echo 3 > /proc/sys/vm/drop_caches
check "the newer data is what reads back" holds_at "$dev" "$dir/new" "$at"
remove_loop_lun "$bs"
remove_backstore "$bs"

# ---- 3. mkfs.ext4: the whole-LUN discard within cmd_time_out --------------------
switch_config "$dir/big.conf" multipath "$region_sectors" "" "${paths[@]}"
bs=$(timed_backstore lun1 "switch/$dir/big.conf" "$big" 30)
dev=$(loop_lun "$bs")
disk=$(basename "$dev")
log "LUN discard limits: max $(cat "/sys/block/$disk/queue/discard_max_bytes") bytes per command"
t0=$(date +%s%N)
dmesg_before=$(dmesg | wc -l)
check "mkfs.ext4 (whole-LUN discard) on the 1 GiB LUN" mkfs.ext4 -q -F "$dev"
log "mkfs.ext4 took $((($(date +%s%N) - t0) / 1000000)) ms"
errors=$(dmesg | tail -n +$((dmesg_before + 1)) | io_errors_in "$disk")
[ -z "$errors" ] || log "kernel log: $errors"
check "no I/O error on $disk in the kernel log" [ -z "$errors" ]
slowest=$({ grep -o 'ran [0-9]* ms' "$RUNNER_LOG" || true; } | awk '$2 > m { m = $2 } END { print m + 0 }')
log "longest command the handler logged: $slowest ms (it logs those over 1 s)"
remove_loop_lun "$bs"
remove_backstore "$bs"
dm_remove "${names[@]}"
check "tcmu-runner exits 0 on SIGTERM" stop_runner
