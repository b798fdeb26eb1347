#!/usr/bin/env bash
# runner_restart: tcmu-runner is killed (SIGKILL) while fio has writes in
# flight to a 3-path placement user:switch LUN, and started again. The new
# runner finds the device still configured in its start-up scan, blocks it,
# resets its ring so the kernel retries what the dead runner never answered
# (libtcmu.c:580-600), and opens it through our handler again. fio writes a fixed set of blocks (each once,
# crc32c with its offset in the header) and then reads every one back: every
# write it saw acknowledged, before, during or after the restart, must verify,
# and none may have failed. Then the table's placement is checked backend by
# backend, so a retried write cannot have landed on the wrong path either.
. "$(dirname "$0")/lib.sh"

region_sectors=128
regions=1536
size=$((regions * region_sectors * 512))
paths=(/dev/ram0 /dev/ram1 /dev/ram2)
kills=2

require_switch_handler
target_up
ram_disks 3 $((size / 1024))
start_runner

placement_loop_lun "$WORK/restart" "$region_sectors" "$regions" "$size" "${paths[@]}"
pass "placement user:switch LUN is $dev"
check "fio sequential fill + verify" fio_fill fill "$dev"

opened_at_least() { [ "$(grep -c 'opened: placement' "$RUNNER_LOG")" -ge "$1" ]; }

# Rate-limited so that the write phase (96 MiB at 6 MiB/s, ~16 s) is still
# running at every kill; randwrite without norandommap writes each block once.
fio --name=restart --filename="$dev" --ioengine=libaio --direct=1 --iodepth=16 \
  --rw=randwrite --bs=36k --size=$((size / 36864 * 36864)) --rate=6m \
  --verify=crc32c --do_verify=1 --verify_fatal=1 \
  --output-format=json --eta=never --output="$VMTEST_RESULTS/fio-restart.json" &
fio_pid=$!
for ((k = 1; k <= kills; k++)); do
  sleep 4
  kill -0 "$fio_pid" || die "restart $k" "fio ended before the kill: nothing was in flight"
  kill_runner
  log "tcmu-runner killed (SIGKILL), $k of $kills"
  sleep 2
  start_runner
  check "restart $k: the new runner opened the device through our handler" \
    wait_for "open number $((k + 1))" 30 opened_at_least $((k + 1))
done
if wait "$fio_pid"; then
  python3 "$here_lib/fio-summary.py" "$VMTEST_RESULTS/fio-restart.json" &&
    pass "every acknowledged write read back and verified across $kills runner kills"
else
  fail "fio across $kills runner kills" "fio failed (see fio-restart.json)"
fi
check "every region on the path the table names" \
  placement_check "$dev" "$region_sectors" "$regions" "${paths[@]}"

remove_loop_lun "$bs"
remove_backstore "$bs"
pass "LUN and backstore removed"
check "tcmu-runner exits 0 on SIGTERM" stop_runner
