#!/usr/bin/env bash
# table_swaps: hundreds of live table swaps under fio write + crc32c verify.
# A 3-path multipath user:switch LUN, all paths on one RAM disk (any table is
# data-safe), has its dev_config rewritten back to back while fio runs, in
# 20 s fio rounds until $min_swaps swaps are done (a swap is a netlink round
# trip: ~0.1-2 s under TCG, so the count, not the time, is fixed), cycling
# through six configs: tables in text and in binary (compiled
# by switchtab in the guest), all regions on one path, mixed, and none. Each
# write is a RECONFIG round trip; the handler parses the table into a new
# generation and publishes it while commands are split against the old one.
# fio's verify header carries each block's offset, so a block split or routed
# to the wrong place fails it: zero misrouted blocks means fio verifies all.
. "$(dirname "$0")/lib.sh"

region_sectors=128
regions=1536
size=$((regions * region_sectors * 512))
dir=$WORK/swaps
round_seconds=20
min_swaps=300
deadline=$(($(date +%s) + 480))
switchtab=$VMTEST_BUILD/handler/tools/switchtab
geometry=(--paths 3 --region-sectors "$region_sectors" --regions "$regions")

require_switch_handler
[ -x "$switchtab" ] || die "$VMTEST_NAME" "switchtab not built: no $switchtab"
target_up
ram_disks 1 $((size / 1024))
start_runner

mkdir -p "$dir"
confs=()
add_conf() {   # add_conf NAME TABLE_FILE_OR_EMPTY
  switch_config "$dir/$1.conf" multipath "$region_sectors" "$2" /dev/ram0 /dev/ram0 /dev/ram0
  confs+=("$dir/$1.conf")
}
for p in 0 1 2; do
  printf '0:%x R1,%x\n' "$p" $((regions - 1)) > "$dir/path$p.txt"
  add_conf "path$p-text" "$dir/path$p.txt"
done
python3 "$here_lib/placement.py" table "$regions" 3 > "$dir/mixed.txt"
"$switchtab" compile "$dir/mixed.txt" -o "$dir/mixed.bin" "${geometry[@]}"
"$switchtab" generate --paths 3 --regions "$regions" --pattern runs:1-40:9 --binary \
  --region-sectors "$region_sectors" -o "$dir/runs.bin"
add_conf mixed-binary "$dir/mixed.bin"
add_conf runs-binary "$dir/runs.bin"
add_conf round-robin ""

bs=$(user_backstore lun0 "switch/${confs[-1]}" "$size")
dev=$(loop_lun "$bs")
pass "multipath user:switch LUN is $dev, ${#confs[@]} configs to cycle"

swaps=0 refused=0 rounds=0 bad_rounds=0
while [ "$swaps" -lt "$min_swaps" ] && [ "$(date +%s)" -lt "$deadline" ]; do
  fio_verify "swaps$rounds" "$dev" "$round_seconds" &
  fio_pid=$!
  while kill -0 "$fio_pid" 2> /dev/null; do
    conf=${confs[swaps % ${#confs[@]}]}
    set_dev_config "$bs" "switch/$conf" || { refused=$((refused + 1)); log "swap to $conf refused"; }
    swaps=$((swaps + 1))
  done
  wait "$fio_pid" || { bad_rounds=$((bad_rounds + 1)); log "fio round $rounds failed (fio-swaps$rounds.json)"; }
  rounds=$((rounds + 1))
done
check "fio verify: zero misrouted blocks in $rounds rounds through $swaps table swaps" [ "$bad_rounds" = 0 ]
log "table swaps done: $swaps in $rounds fio rounds, refused: $refused"
check "all $swaps swaps accepted" [ "$refused" = 0 ]
check "at least $min_swaps swaps during fio ($swaps)" [ "$swaps" -ge "$min_swaps" ]
check "the handler published a generation per swap" \
  eval '[ "$(grep -c "table reloaded from" "$RUNNER_LOG")" -ge "$swaps" ]'

remove_loop_lun "$bs"
remove_backstore "$bs"
pass "LUN and backstore removed"
check "tcmu-runner exits 0 on SIGTERM" stop_runner
