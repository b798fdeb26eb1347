#!/usr/bin/env bash
# many_luns: sixteen user:switch LUNs on one tcmu-runner, each behind its own
# tcm_loop target, two sparse tmpfs files per LUN (placement). The handler's
# threads — the engine's workers (switch-io*) and the prober (switch-probe),
# shared by every LUN of the process — stay as many as with one LUN; the
# runner grows by at most one thread per LUN (tcmu-runner's own command
# thread, whatever the handler does). Every LUN then takes fio write+verify at
# once, each LUN's region 0 holds its own marker on its own first path file,
# and the handler's threads go with the last LUN.
. "$(dirname "$0")/lib.sh"

luns=16
lun_size=$((16 << 20))
region_sectors=128 # 64 KiB: region 0 is on path 0 (round robin)
dir=$WORK/many

require_switch_handler
target_up
start_runner
mkdir -p "$dir"

ram_disks 1 $((lun_size / 1024))
first_path=$(dm_path many0 /dev/ram0)

# add_lun K: user:switch LUN K over two sparse files (LUN 0's first path:
# first_path); prints its /dev/sdX.
add_lun() {
  local p0=$dir/lun$1-p0
  [ "$1" != 0 ] || p0=$first_path
  truncate -s "$lun_size" "$dir/lun$1-p0" "$dir/lun$1-p1"
  switch_config "$dir/lun$1.conf" placement "$region_sectors" "" "$p0" "$dir/lun$1-p1"
  loop_lun "$(user_backstore "many$1" "switch/$dir/lun$1.conf" "$lun_size")"
}
# path0_head K: the first 13 bytes of LUN K's first path.
path0_head() {
  if [ "$1" = 0 ]; then head -c 13 "$first_path"; else head -c 13 "$dir/lun$1-p0"; fi
}

handler_threads() { runner_threads switch-; }
no_handler_threads() { [ "$(handler_threads)" -eq 0 ]; }

devs=("$(add_lun 0)")
ours_at_1=$(handler_threads)
all_at_1=$(runner_threads)
pass "1 LUN: $all_at_1 runner threads, $ours_at_1 of the handler's (switch-io*, switch-probe, switch-uevent)"
for k in $(seq 1 $((luns - 1))); do devs+=("$(add_lun "$k")"); done
ours=$(handler_threads)
all=$(runner_threads)
check "$luns LUNs: the handler's threads stay $ours_at_1 (now $ours)" [ "$ours" -eq "$ours_at_1" ]
check "$luns LUNs: the runner grew by at most one thread per LUN ($all_at_1 -> $all)" \
  [ "$all" -le $((all_at_1 + luns - 1)) ]
check "the last LUN opened on the shared engine with $luns LUNs on it" \
  runner_log_has "engine with 2 workers ($luns LUNs on it)"

# One fio, a job per LUN: a verified write of every LUN at once.
jobs=()
for k in "${!devs[@]}"; do jobs+=(--name="lun$k" --filename="${devs[$k]}"); done
check "fio write+verify on all $luns LUNs at once" \
  fio --ioengine=libaio --direct=1 --iodepth=4 --rw=randwrite --bs=36k --size=4m \
    --verify=crc32c --verify_fatal=1 --output-format=json --eta=never \
    --output="$VMTEST_RESULTS/fio-many.json" "${jobs[@]}"

# Region 0 of LUN K is on its path 0: a marker written there through LUN K
# must be at byte 0 of lunK-p0 and nowhere else.
for k in "${!devs[@]}"; do
  printf 'lun %02d marker' "$k" | dd of="${devs[$k]}" bs=4096 conv=sync oflag=direct status=none
done
misplaced=0
for k in "${!devs[@]}"; do
  [ "$(path0_head "$k")" = "$(printf 'lun %02d marker' "$k")" ] || misplaced=$((misplaced + 1))
done
check "each LUN's region 0 is on its own path file ($misplaced of $luns misplaced)" [ "$misplaced" -eq 0 ]

remove_lun() {
  remove_loop_lun "$TARGET/core/user_1/many$1"
  remove_backstore "$TARGET/core/user_1/many$1"
}
remove_lun 0
check "LUN 0 removed, 15 still open: its device-mapper path comes apart at once" dm_remove many0
for k in $(seq 1 $((luns - 1))); do remove_lun "$k"; done
check "with the last LUN gone the handler has no thread left" wait_for "no switch- thread" 10 no_handler_threads
check "tcmu-runner exits 0 on SIGTERM" stop_runner
