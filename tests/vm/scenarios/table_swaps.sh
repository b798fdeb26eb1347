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
# But all paths reach the same blocks, so fio cannot see a read or write sent
# to the wrong *path*: each path is its own dm-linear map of the RAM disk, and
# after every round a fresh swap is followed by routing.py, which reads
# sampled regions and requires each read to be counted on the path the new
# table names and on no other (the expected routes come from the generator's
# formula or the binary file, not from the handler).
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
paths=()
for p in 0 1 2; do paths+=("$(dm_path "swap$p" /dev/ram0)"); done
start_runner

mkdir -p "$dir"
confs=()
add_conf() {   # add_conf NAME TABLE_FILE_OR_EMPTY: routes expected in $dir/NAME.routes
  switch_config "$dir/$1.conf" multipath "$region_sectors" "$2" "${paths[@]}"
  confs+=("$1")
}
for p in 0 1 2; do
  printf '0:%x R1,%x\n' "$p" $((regions - 1)) > "$dir/path$p.txt"
  add_conf "path$p-text" "$dir/path$p.txt"
  awk -v n="$regions" -v p="$p" 'BEGIN { for (r = 0; r < n; r++) printf "%x:%x\n", r, p }' > "$dir/path$p-text.routes"
done
python3 "$here_lib/placement.py" table "$regions" 3 > "$dir/mixed.txt"
python3 "$here_lib/placement.py" routes "$regions" 3 > "$dir/mixed-binary.routes"
"$switchtab" compile "$dir/mixed.txt" -o "$dir/mixed.bin" "${geometry[@]}"
"$switchtab" generate --paths 3 --regions "$regions" --pattern runs:1-40:9 --binary \
  --region-sectors "$region_sectors" -o "$dir/runs.bin"
"$switchtab" dump "$dir/runs.bin" --expand > "$dir/runs-binary.routes"
add_conf mixed-binary "$dir/mixed.bin"
add_conf runs-binary "$dir/runs.bin"
add_conf round-robin ""
awk -v n="$regions" 'BEGIN { for (r = 0; r < n; r++) printf "%x:%x\n", r, r % 3 }' > "$dir/round-robin.routes"

# swap_to NAME: makes config NAME live; counts a refusal.
swap_to() {
  set_dev_config "$bs" "switch/$dir/$1.conf" || { refused=$((refused + 1)); log "swap to $1 refused"; }
  swaps=$((swaps + 1))
}

bs=$(user_backstore lun0 "switch/$dir/${confs[-1]}.conf" "$size")
expect_opened 3
dev=$(loop_lun "$bs")
pass "multipath user:switch LUN is $dev, ${#confs[@]} configs to cycle"

# routed_as NAME: sampled reads go where config NAME's table says.
routed_as() {
  python3 "$here_lib/routing.py" check --lun "$dev" --region-bytes $((region_sectors * 512)) \
    --expected "$dir/$1.routes" "${paths[@]}"
}

swaps=0 refused=0 rounds=0 bad_rounds=0 misrouted_rounds=0
swap_to path1-text
check "routing oracle: all reads on path 1 after a swap to path1-text" routed_as path1-text
check "routing oracle: it notices reads that are not where path0-text would send them" eval '! routed_as path0-text'
while [ "$swaps" -lt "$min_swaps" ] && [ "$(date +%s)" -lt "$deadline" ]; do
  fio_verify "swaps$rounds" "$dev" "$round_seconds" &
  fio_pid=$!
  while kill -0 "$fio_pid" 2> /dev/null; do
    swap_to "${confs[swaps % ${#confs[@]}]}"
  done
  wait "$fio_pid" || { bad_rounds=$((bad_rounds + 1)); log "fio round $rounds failed (fio-swaps$rounds.json)"; }
  conf=${confs[swaps % ${#confs[@]}]}
  swap_to "$conf"
  routed_as "$conf" || { misrouted_rounds=$((misrouted_rounds + 1)); log "round $rounds: $conf misrouted"; }
  rounds=$((rounds + 1))
done
check "fio verify: zero misrouted blocks in $rounds rounds through $swaps table swaps" [ "$bad_rounds" = 0 ]
check "routing oracle: after each round's last swap, reads reach only the path the table names" [ "$misrouted_rounds" = 0 ]
log "table swaps done: $swaps in $rounds fio rounds, refused: $refused"
check "all $swaps swaps accepted" [ "$refused" = 0 ]
check "at least $min_swaps swaps during fio ($swaps)" [ "$swaps" -ge "$min_swaps" ]
check "the handler published a generation per swap" \
  eval '[ "$(grep -c "table reloaded from" "$RUNNER_LOG")" -ge "$swaps" ]'

remove_loop_lun "$bs"
remove_backstore "$bs"
dm_remove swap0 swap1 swap2
pass "LUN, backstore and path maps removed"
check "tcmu-runner exits 0 on SIGTERM" stop_runner
