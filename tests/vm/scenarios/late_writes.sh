#!/usr/bin/env bash
# late_writes (issue #20): a command the initiator was told failed must never
# change data afterwards. One 1 GiB multipath user:switch LUN over three
# dm-linear maps of one RAM disk (brd cannot deallocate), behind tcm_loop, in
# one boot; cmd_time_out is changed between the checks (unexported):
#  1. cmd_time_out 1 s: the whole LUN unmapped (UNMAP commands as large as
#     the Block Limits page allows); then, with every path 100 ms late per
#     I/O (dm-delay), one WRITE SAME with UNMAP of the whole LUN, whose blocks
#     must read back as zeroes, so a path that cannot deallocate writes them:
#     it outlives the timeout. Right after it fails, 16 64 KiB markers; once
#     the paths are idle, every acknowledged marker must still be there (one
#     that waited for the zero-fill past its own deadline fails, never lands).
#  2. cmd_time_out 8 s: a WRITE held in the handler past it (its path's dm
#     map suspended); the table then moves the region to another path and
#     newer data is written to the same blocks; after the resume the newer
#     data is what reads back. (8 s leaves the newer write, which waits for
#     the held one, room for the resume on a loaded host.)
#  3. cmd_time_out 30 s (the default): blkdiscard of the whole LUN, timed,
#     then mkfs.ext4 (whole-LUN discard): no I/O error in the kernel log
#     meanwhile; the longest command the handler logged (it logs those over
#     1 s) is reported.
. "$(dirname "$0")/lib.sh"
. "$here_lib/late-writes.sh"

region_sectors=128  # 64 KiB regions
size=$((1 << 30))
blocks=$((size / 512))
regions=$((size / (region_sectors * 512)))
names=(lw0 lw1 lw2)

require_switch_handler
target_up
ram_disks 1 $((size / 1024))
start_runner
paths=()
for p in 0 1 2; do paths+=("$(dm_path "${names[p]}" /dev/ram0)"); done
dir=$WORK/late
mkdir -p "$dir"
switch_config "$dir/rr.conf" multipath "$region_sectors" "" "${paths[@]}"
bs=$(timed_backstore lun0 "switch/$dir/rr.conf" "$size" 1)
dev=$(loop_lun "$bs")
pass "1 GiB multipath LUN over ${paths[*]}, cmd_time_out 1 s: $dev"
log "READ CAPACITY (16): $(sg_readcap --16 "$dev" | { grep -i 'lbprz' || true; } | tr -s ' ')"

# ---- 1. a timed-out WRITE SAME must not wipe later writes ----------------------
t0=$(date +%s%N)
unmap_rc=0
unmap_all "$dev" "$blocks" || unmap_rc=$?
log "the whole LUN unmapped: exit $unmap_rc after $((($(date +%s%N) - t0) / 1000000)) ms"
load_modules dm_delay
# 100 ms, not less: on an idle host a 20 ms delay let the whole zero-fill
# finish inside the 1 s timeout, and a WRITE SAME that succeeds tests nothing.
for p in 0 1 2; do dm_slow "${names[p]}" /dev/ram0 100; done
check "the WRITE SAME failed (timed out) and markers written right after it were acknowledged" \
  write_same_then_markers "$dev" "$size" "$dir"
log "paths idle after $(wait_paths_idle 240 "${names[@]}") s"
for p in 0 1 2; do dm_heal "${names[p]}" /dev/ram0; done
echo 3 > /proc/sys/vm/drop_caches
# A marker that waited for the zero-fill past its own deadline failed and
# may hold anything; every acknowledged one must be there.
acked=0 kept=0
for i in $(cat "$WORK/acked" 2> /dev/null); do
  acked=$((acked + 1))
  if holds_at "$dev" "$(marker_file "$i")" $(((i + 1) * size / 16 - 65536)); then kept=$((kept + 1)); fi
done
log "markers acknowledged: $acked of 16, surviving: $kept"
check "every acknowledged marker survives the timed-out WRITE SAME ($kept of $acked)" [ "$acked" -gt 0 -a "$kept" = "$acked" ]
dev=$(set_timeout "$bs" 8)
pass "the LUN again, cmd_time_out 8 s: $dev"

# ---- 2. a WRITE held past cmd_time_out must not land on newer data ------------
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
dev=$(set_timeout "$bs" 30)
pass "the LUN again, cmd_time_out 30 s: $dev"

# ---- 3. mkfs.ext4: the whole-LUN discard within cmd_time_out --------------------
disk=$(basename "$dev")
log "LUN discard limits: max $(cat "/sys/block/$disk/queue/discard_max_bytes") bytes per command"
dmesg_before=$(dmesg | wc -l)
log_before=$(wc -l < "$RUNNER_LOG")
# The discard mkfs.ext4 sends, alone and timed: no UNMAP can have taken
# longer than all of it.
read -r ios_before ms_before < <(awk '{ print $12, $15 }' "/sys/block/$disk/stat")
t0=$(date +%s%N)
check "blkdiscard of the whole 1 GiB LUN" blkdiscard "$dev"
wall_ms=$((($(date +%s%N) - t0) / 1000000))
read -r ios_after ms_after < <(awk '{ print $12, $15 }' "/sys/block/$disk/stat")
log "whole-LUN discard: $((ios_after - ios_before)) UNMAP commands, $((ms_after - ms_before)) ms summed, $wall_ms ms wall (the bound on any one of them)"
t0=$(date +%s%N)
check "mkfs.ext4 (whole-LUN discard) on the 1 GiB LUN" mkfs.ext4 -q -F "$dev"
log "mkfs.ext4 took $((($(date +%s%N) - t0) / 1000000)) ms"
errors=$(dmesg | tail -n +$((dmesg_before + 1)) | io_errors_in "$disk")
[ -z "$errors" ] || log "kernel log: $errors"
check "no I/O error on $disk in the kernel log during blkdiscard and mkfs.ext4" [ -z "$errors" ]
slowest=$(tail -n +$((log_before + 1)) "$RUNNER_LOG" | { grep -o 'ran [0-9]* ms' || true; } |
  awk '$2 > m { m = $2 } END { print m + 0 }')
log "longest command during mkfs.ext4 the handler logged: $slowest ms (0: none over 1 s, the threshold it logs)"
remove_loop_lun "$bs"
remove_backstore "$bs"
dm_remove "${names[@]}"
check "tcmu-runner exits 0 on SIGTERM" stop_runner
