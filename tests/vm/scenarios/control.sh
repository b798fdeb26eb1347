#!/usr/bin/env bash
# control: a user:switch LUN managed live over the handler's D-Bus objects,
# the way an administrator would. The project's install step puts switchctl
# and targetcli-switch into a prefix; targetcli creates the LUN; while fio
# write+verify runs (back-to-back rounds until the changes are done), both
# tools read the table, change it (map, set, load text and binary) and change
# path states; a non-root caller and malformed
# input are refused with a message that says why and change nothing. Then
# saveconfig -> clearconfig -> restoreconfig must bring the LUN back with the
# table saved into its config, serving I/O again.
#
# Multipath mode with all three paths on one RAM disk (as in reload), so any
# table and any path state is data-safe and fio's verify checks the splitting.
# Each path is its own dm-linear map of the disk, so routing.py can see which
# path a read reached: after the live edits and after restoreconfig, sampled
# reads must be counted on the path the table names and on no other.
. "$(dirname "$0")/lib.sh"

region_sectors=128
regions=1536
size=$((regions * region_sectors * 512))
dir=$WORK/control
prefix=$WORK/prefix
switchtab=$VMTEST_BUILD/handler/tools/switchtab
fio_round_seconds=10
save_file=/etc/rtslib-fb-target/saveconfig.json

require_switch_handler
target_up
ram_disks 1 $((size / 1024))
paths=()
for p in 0 1 2; do paths+=("$(dm_path "ctl$p" /dev/ram0)"); done
start_dbus
start_runner

# ---- helpers ----------------------------------------------------------------

switchctl() { "$prefix/bin/switchctl" "$@"; }

# as_nobody CMD...: CMD as uid/gid 65534, no supplementary groups.
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

# targetcli_batch runs `targetcli`; here that name means targetcli-switch.
switch_shell_batch() {
  local rc=0
  targetcli() { "$prefix/bin/targetcli-switch" "$@"; }
  targetcli_batch "$@" || rc=$?
  unset -f targetcli
  return "$rc"
}

# expect_refused NAME EXIT_STATUS NEEDLE CMD...: CMD exits EXIT_STATUS and its
# stderr contains NEEDLE (the reason, not just "failed").
expect_refused() {
  local name=$1 want=$2 needle=$3 rc=0
  shift 3
  "$@" > "$dir/refused.out" 2> "$dir/refused.err" || rc=$?
  sed 's/^/  stderr| /' "$dir/refused.err"
  if [ "$rc" != "$want" ]; then
    fail "$name" "'$*' exited $rc, expected $want"
  elif ! grep -qF -- "$needle" "$dir/refused.err"; then
    fail "$name" "stderr does not say \"$needle\""
  else
    pass "$name"
  fi
}

# Each tool start costs seconds under emulation, so checks read what they
# need from JSON replies the scenario gets anyway, or from one summary.
path_state() { switchctl --json lun0 table summary | jq -r ".summary.paths[$1].state"; }

# region_maps_to TABLE REGION PATH: TABLE (binary) sends REGION to PATH.
region_maps_to() { "$switchtab" dump "$1" --expand | grep -x "$(printf '%x:%x' "$2" "$3")" > /dev/null; }

# routed_as TABLE: sampled reads through the LUN reach the path TABLE (binary) names.
routed_as() {
  "$switchtab" dump "$1" --expand > "$dir/routes.txt" &&
    python3 "$here_lib/routing.py" check --lun "$dev" --region-bytes $((region_sectors * 512)) \
      --expected "$dir/routes.txt" "${paths[@]}"
}

# The disk of the tcm_loop LUN that loop_lun made for $bs (restored by name).
# fio_rounds DEV: fio write+verify rounds on DEV until $dir/stop-fio
# exists, so I/O spans every live change however long they take under
# emulation; fails at the first round that fails.
fio_rounds() {
  local round=0
  until [ -e "$dir/stop-fio" ]; do
    fio_verify "control-$round" "$1" "$fio_round_seconds" || return 1
    round=$((round + 1))
  done
  log "$round fio rounds"
}

lun_disk() {
  local tpg=$TARGET/loopback/$(wwn_for "$bs")/tpgt_1
  scsi_disk_of "$(cat "$tpg/address"):0"
}

# ---- install and create ---------------------------------------------------------

mkdir -p "$dir"
must "cmake --install puts the tools under $prefix" cmake --install "$VMTEST_BUILD" --prefix "$prefix"
check "switchctl and targetcli-switch installed" test -x "$prefix/bin/switchctl" -a -x "$prefix/bin/targetcli-switch"
# A prefix other than /usr is not on Python's path: say where the package went.
export PYTHONPATH=$prefix/lib/python3/dist-packages
check "the tcmu_switch_cli package installed under $prefix" test -f "$PYTHONPATH/tcmu_switch_cli/switchctl.py"

# The config's table starts as a switchtab binary with runs of 4-16 regions.
"$switchtab" generate --paths 3 --regions "$regions" --pattern runs:4-16:7 --binary \
  --region-sectors "$region_sectors" -o "$dir/lun0.bin"
switch_config "$dir/lun0.conf" multipath "$region_sectors" "$dir/lun0.bin" "${paths[@]}"
# A failed path stays failed until restored: no prober run in the test's time.
sed -i 's/^\[device\]$/[device]\nprobe_interval_ms=600000/' "$dir/lun0.conf"

must "targetcli: /backstores/user:switch create" targetcli_batch \
  "/backstores/user:switch create name=lun0 size=$size cfgstring=$dir/lun0.conf hw_max_sectors=1024"
bs=$(ls -d "$TARGET"/core/user_*/lun0)
expect_opened 3
dev=$(loop_lun "$bs")
pass "user:switch lun0 is $dev"
check "the handler exported lun0 on D-Bus" runner_log_has "D-Bus control at /org/kernel/TCMUService1/switch/lun0"

# ---- live changes under fio verify ----------------------------------------------

dbus-monitor --system "type='signal',interface='org.tcmuswitch.Device1'" > "$dir/signals.txt" 2>&1 &
monitor_pid=$!
fio_rounds "$dev" &
fio_pid=$!

switchctl --json lun0 table summary > "$dir/summary.json"
check "switchctl table summary: 3 multipath paths, 1536 regions" \
  [ "$(jq -r '[.summary.mode, .summary.nr_paths, .summary.nr_regions] | join(" ")' "$dir/summary.json")" = "multipath 3 1536" ]
gen0=$(jq -r .summary.generation "$dir/summary.json")

check "targetcli-switch: table, paths and stats on the LUN node" switch_shell_batch \
  "cd /backstores/user:switch/lun0" "table summary" "paths status" "stats" "table map 0x5 2" "paths disable 1"
check "targetcli-switch showed the table summary" grep -q "lun0: multipath, 3 paths" "$WORK/targetcli.out"
check "targetcli-switch showed per-path counters" grep -q "path  name .* bytes_written" "$WORK/targetcli.out"
check "targetcli-switch disabled path 1" [ "$(path_state 1)" = disabled ]
switchctl lun0 table save "$dir/live.bin"
check "targetcli-switch table map 5 2 is live" region_maps_to "$dir/live.bin" 5 2

check "switchctl paths restore 1: healthy" [ "$(switchctl --json lun0 paths restore 1 | jq -r .state)" = healthy ]
check "switchctl paths fail 2: failed" [ "$(switchctl --json lun0 paths fail 2 | jq -r .state)" = failed ]
check "switchctl paths restore 2: healthy" [ "$(switchctl --json lun0 paths restore 2 | jq -r .state)" = healthy ]

check "switchctl table set (dm-switch text)" switchctl lun0 table set 100:1 R1,3f 200:0 :1 :2 R3,30
check "switchctl table map 0x10 0" switchctl lun0 table map 0x10 0
switchctl lun0 table save "$dir/text.table" --text
check "switchctl table load of dm-switch text" switchctl lun0 table load "$dir/text.table"
gen=$(switchctl --json lun0 table load "$dir/live.bin" | jq -r .generation)
check "switchctl table load of a binary table: generation $gen0 -> $gen after 5 changes" [ "$gen" -ge $((gen0 + 5)) ]
gen=$(switchctl --json lun0 table map 0x5 1 | jq -r .generation)
check "switchctl table map 0x5 1 for the restore test: generation $gen" [ "$gen" -gt 0 ]

# Refusals: nothing may change, and each says why.
expect_refused "non-root switchctl paths fail is refused" 1 "needs uid 0; the caller is uid 65534" \
  as_nobody "$prefix/bin/switchctl" lun0 paths fail 0
check "non-root may read the summary" as_nobody "$prefix/bin/switchctl" lun0 table summary
expect_refused "malformed mapping refused, naming the entry" 1 'path 9 >= nr_paths 3' \
  switchctl lun0 table set 0:1 5:9
expect_refused "truncated binary table refused, naming the byte" 1 "byte" \
  switchctl lun0 table load <(head -c 100 "$dir/lun0.bin")
"$switchtab" generate --paths 3 --regions 99 --pattern round-robin --binary --region-sectors 128 -o "$dir/small.bin"
expect_refused "a table of another geometry is refused" 1 "nr_regions" switchctl lun0 table load "$dir/small.bin"
expect_refused "a path beyond nr_paths is refused" 1 'path 7 >= nr_paths 3' switchctl lun0 paths disable 7
expect_refused "usage error exits 2" 2 'region "x" is not a number' switchctl lun0 table map x 1
check "refused calls changed nothing (generation $gen, path 0 healthy)" [ "$(switchctl --json lun0 table summary |
  jq -r '"\(.summary.generation) \(.summary.paths[0].state)"')" = "$gen healthy" ]
switch_shell_batch "/backstores/user:switch/lun0 table map 5 9" || true
check "targetcli-switch reports the handler's reason" grep -qF "path 9 >= nr_paths 3" "$WORK/targetcli.err"

check "switchctl heatmap writes a PNG" switchctl lun0 heatmap -o "$VMTEST_RESULTS/control-heatmap.png"
check "the heatmap is a PNG" grep -q PNG <(head -c 8 "$VMTEST_RESULTS/control-heatmap.png")
check "fio was still running after the last live change" kill -0 "$fio_pid"
touch "$dir/stop-fio"
check "fio verify while the table and path states changed" wait "$fio_pid"
kill "$monitor_pid" 2> /dev/null || true
check "PathStateChanged signals on the system bus" grep -q "member=PathStateChanged" "$dir/signals.txt"

# ---- persistence ----------------------------------------------------------------

check "switchctl table save into the config's table file" switchctl lun0 table save "$dir/lun0.bin"
cp "$dir/lun0.bin" "$dir/before.bin"
check "routing oracle: reads reach the paths the live table names" routed_as "$dir/before.bin"
# targetcli starts where the last session left off: cd / for the root's commands.
check "targetcli-switch saveconfig, clearconfig" switch_shell_batch \
  "cd /" "saveconfig $save_file" "clearconfig confirm=True"
check "clearconfig removed lun0" no_backstore_named lun0
check "targetcli-switch restoreconfig" switch_shell_batch "cd /" "restoreconfig $save_file"
check "restoreconfig brought lun0 back" test -d "$bs"
wait_for "lun0 back on D-Bus" 30 switchctl lun0 table summary > /dev/null
switchctl lun0 table save "$dir/after.bin"
check "the restored LUN has the saved table" "$switchtab" diff "$dir/before.bin" "$dir/after.bin"
check "region 5 still on path 1 after restore" region_maps_to "$dir/after.bin" 5 1
wait_for "the restored disk" 30 lun_disk > /dev/null
dev=/dev/$(lun_disk)
check "fio verify on the restored LUN ($dev)" fio_verify control-restored "$dev" 5
check "routing oracle: the restored LUN routes as its saved table" routed_as "$dir/after.bin"

check "targetcli clearconfig" targetcli_batch "cd /" "clearconfig confirm=True"
dm_remove ctl0 ctl1 ctl2
check "tcmu-runner exits 0 on SIGTERM" stop_runner
