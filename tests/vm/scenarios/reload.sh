#!/usr/bin/env bash
# reload: live table swaps under I/O. A 3-path user:switch LUN in multipath
# mode, all three paths on the same RAM disk (so any table is data-safe), runs
# fio write+verify while its table is swapped 20 times by writing
# attrib/dev_config (each write is one RECONFIG round trip to the handler),
# then once through targetcli `set attribute dev_config=` (the user's path).
# Every swap must be accepted and read back; fio must see no verify error.
. "$(dirname "$0")/lib.sh"

region_sectors=128
regions=1536
size=$((regions * region_sectors * 512))
dir=$WORK/reload
swaps=20                # back to back; each a netlink round trip, 0.2-2 s under TCG
fio_round_seconds=4

require_switch_handler
target_up
ram_disks 1 $((size / 1024))
start_dbus   # only for the targetcli swap
start_runner

# Five tables: everything on path 0, 1 or 2 ("0:p" repeated into every other
# slot), the placement oracle's mixed table, and none (round-robin default).
mkdir -p "$dir"
confs=()
for p in 0 1 2; do
  printf '0:%x R1,%x\n' "$p" $((regions - 1)) > "$dir/path$p.txt"
  switch_config "$dir/path$p.conf" multipath "$region_sectors" "$dir/path$p.txt" /dev/ram0 /dev/ram0 /dev/ram0
  confs+=("$dir/path$p.conf")
done
python3 "$here_lib/placement.py" table "$regions" 3 > "$dir/mixed.txt"
switch_config "$dir/mixed.conf" multipath "$region_sectors" "$dir/mixed.txt" /dev/ram0 /dev/ram0 /dev/ram0
switch_config "$dir/rr.conf" multipath "$region_sectors" "" /dev/ram0 /dev/ram0 /dev/ram0
confs+=("$dir/mixed.conf" "$dir/rr.conf")

bs=$(user_backstore lun0 "switch/$dir/rr.conf" "$size")
dev=$(loop_lun "$bs")
pass "multipath user:switch LUN is $dev"

dev_config_is() { [ "$(cat "$bs/attrib/dev_config")" = "switch/$1" ]; }

# fio in rounds of a few seconds until told to stop, so the I/O lasts exactly
# as long as the swaps do, however slow the guest is. Status: the first
# failing round's.
fio_rounds() {
  local round=0
  while [ ! -e "$dir/stop" ]; do
    fio_verify "reload-$round" "$dev" "$fio_round_seconds" || return
    round=$((round + 1))
  done
}

fio_rounds &
fio_pid=$!
refused=0
for ((i = 0; i < swaps; i++)); do
  conf=${confs[i % ${#confs[@]}]}
  set_dev_config "$bs" "switch/$conf" || { refused=$((refused + 1)); log "swap $i to $conf refused"; }
done
check "$swaps swaps through attrib/dev_config under I/O, none refused" [ "$refused" = 0 ]
check "targetcli set attribute dev_config= under I/O" targetcli_batch \
  "/backstores/user:switch/lun0 set attribute dev_config=switch/$dir/mixed.conf"
check "targetcli's dev_config took effect" dev_config_is "$dir/mixed.conf"
check "fio was running throughout" kill -0 "$fio_pid"
touch "$dir/stop"
check "fio verify while the table was swapped" wait "$fio_pid"

remove_loop_lun "$bs"
remove_backstore "$bs"
pass "LUN and backstore removed"
check "tcmu-runner exits 0 on SIGTERM" stop_runner
