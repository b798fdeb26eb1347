# Guest helpers for scenario scripts (bash, run as root by stage2.sh).
# A scenario starts with:   . "$(dirname "$0")/lib.sh"
#
# Results: `pass NAME` / `fail NAME REASON` print `PASS: NAME` / `FAIL: NAME:
# REASON` and append them to $VMTEST_RESULTS/summary, which run-scenarios
# counts. Any command that fails outside a condition aborts the scenario with a
# FAIL line naming it (ERR trap). On failure, dmesg and tcmu-runner's log are
# copied to $VMTEST_RESULTS and their tails printed.
#
# Storage: LIO objects are made by writing configfs directly (fast, no D-Bus);
# targetcli is used only where the user's own path is what a scenario tests.

set -Eeuo pipefail

here_lib="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TARGET=/sys/kernel/config/target
WORK=/run/vmtest                      # guest tmpfs: generated configs, logs
RUNNER_LOG=$WORK/log/tcmu-runner.log
STOCK_HANDLERS=/usr/lib/x86_64-linux-gnu/tcmu-runner
mkdir -p "$WORK/log" "$VMTEST_RESULTS"

nr_failed=0
runner_pid=

# ---- reporting ------------------------------------------------------------

log() { printf '[%8s] %s\n' "$(cut -d' ' -f1 /proc/uptime)" "$*"; }

pass() { echo "PASS: $1" | tee -a "$VMTEST_RESULTS/summary"; }

fail() {
  echo "FAIL: $1: $2" | tee -a "$VMTEST_RESULTS/summary"
  nr_failed=$((nr_failed + 1))
}

die() { fail "$@"; exit 1; }

# check NAME CMD...: PASS when CMD succeeds, else FAIL naming the command.
check() {
  local name=$1
  shift
  if "$@"; then pass "$name"; else fail "$name" "'$*' exited $?"; fi
}

# must NAME CMD...: like check, but the scenario cannot go on without it.
must() {
  local name=$1
  shift
  "$@" || die "$name" "'$*' exited $?"
  pass "$name"
}

# wait_for WHAT SECONDS CMD...: polls CMD every 0.2 s until it succeeds.
wait_for() {
  local what=$1 secs=$2 deadline=$(($(date +%s) + $2))
  shift 2
  until "$@"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "timed out after $secs s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

collect_logs() {
  dmesg > "$VMTEST_RESULTS/dmesg.txt" || true
  [ ! -f "$RUNNER_LOG" ] || cp "$RUNNER_LOG" "$VMTEST_RESULTS/"
  log "---- last lines of tcmu-runner.log ----"
  tail -n 25 "$RUNNER_LOG" 2>/dev/null || true
  log "---- last lines of dmesg ----"
  tail -n 25 "$VMTEST_RESULTS/dmesg.txt" || true
}

# Only the scenario's own shell reports: a failure inside $(...) resurfaces
# there as the failing assignment.
on_error() {
  [ "$BASHPID" = "$$" ] || return 0
  fail "$VMTEST_NAME" "aborted: '$3' exited $1 (line $2${4:+ in $4})"
}

on_exit() {
  local rc=$?
  [ "$rc" = 0 ] || [ "$nr_failed" -gt 0 ] || fail "$VMTEST_NAME" "exited $rc"
  if [ "$nr_failed" -gt 0 ]; then
    collect_logs
    exit 1
  fi
  exit 0
}

trap 'on_error $? $LINENO "$BASH_COMMAND" "${FUNCNAME[0]:-}"' ERR
trap on_exit EXIT

# ---- kernel ---------------------------------------------------------------

# load_modules MODULE...: modprobe each. A custom kernel has its drivers built
# in and may have no module tree at all; then the step that needs the driver
# is the check.
load_modules() {
  local m err
  for m in "$@"; do
    err=$(modprobe "$m" 2>&1) && continue
    [ -d "/sys/module/$m" ] && continue
    if [ -e "/lib/modules/$(uname -r)/modules.dep" ]; then
      die "$VMTEST_NAME" "modprobe $m: $err"
    fi
    log "no module tree for $(uname -r): expecting $m built in"
  done
}

# The target core, the user backstore and tcm_loop, with configfs mounted.
target_up() {
  load_modules configfs target_core_mod target_core_user target_core_file \
    target_core_iblock tcm_loop sd_mod
  mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
  [ -f "$TARGET/version" ] || die "$VMTEST_NAME" "no $TARGET/version after loading the target core"
}

# ram_disks COUNT KIB: /dev/ram0..COUNT-1 from brd, which takes O_DIRECT
# (tmpfs does not). A built-in brd takes its sizes from the kernel command
# line instead: run-guest --append "brd.rd_nr=N brd.rd_size=KIB".
ram_disks() {
  local count=$1 kib=$2 i
  modprobe brd rd_nr="$count" rd_size="$kib" 2>/dev/null || [ -d /sys/module/brd ] ||
    die "$VMTEST_NAME" "cannot load brd"
  for ((i = 0; i < count; i++)); do
    [ -b "/dev/ram$i" ] && [ "$(blockdev --getsize64 "/dev/ram$i")" -ge $((kib * 1024)) ] ||
      die "$VMTEST_NAME" "/dev/ram$i missing or smaller than $kib KiB"
  done
}

# How many times target_core_user has logged a daemon's SET_FEATURES, which
# a runner sends once it listens for netlink commands.
runner_registrations() { dmesg | grep -c -F "tcmu daemon: command reply support" || true; }

registrations_above() { [ "$(runner_registrations)" -gt "$1" ]; }

# ---- tcmu-runner and D-Bus ------------------------------------------------

# The runner takes one handler directory: Debian's stock handlers, the
# baseline `file` handler built by run-guest, and ours when it is built.
handler_dir() {
  local dir=$WORK/handlers
  mkdir -p "$dir"
  ln -sf "$STOCK_HANDLERS"/handler_*.so "$dir/"
  ln -sf "$VMTEST_FILE_HANDLER" "$dir/handler_file.so"
  [ ! -f "$HANDLER_SWITCH_SO" ] || ln -sf "$HANDLER_SWITCH_SO" "$dir/handler_switch.so"
  echo "$dir"
}

# A scenario about user:switch fails, never skips, when the plugin is missing.
require_switch_handler() {
  [ -f "$HANDLER_SWITCH_SO" ] ||
    die "$VMTEST_NAME" "handler_switch.so not built: no $HANDLER_SWITCH_SO (build the project, or set HANDLER_SWITCH_SO)"
}

# targetcli needs a system bus even for `ls`; the runner works without one.
start_dbus() {
  mkdir -p /run/dbus
  [ -s /etc/machine-id ] || dbus-uuidgen --ensure=/etc/machine-id
  dbus-daemon --system --fork > /dev/null
}

runner_on_bus() {
  dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.kernel.TCMUService1 2> /dev/null |
    grep -q 'boolean true'
}

runner_alive() { [ -n "$runner_pid" ] && kill -0 "$runner_pid" 2> /dev/null; }

# Ready for devices once it has told the kernel it answers netlink commands
# (counted, so a restarted runner waits for its own); with a bus, also once it
# owns its name (targetcli discovers handlers there).
start_runner() {
  local before
  before=$(runner_registrations)
  tcmu-runner --handler-path "$(handler_dir)" -l "$WORK/log" &
  runner_pid=$!
  wait_for "tcmu-runner netlink set-up" 60 registrations_above "$before" ||
    die "$VMTEST_NAME" "tcmu-runner did not register with target_core_user"
  if [ -S /run/dbus/system_bus_socket ]; then
    wait_for "org.kernel.TCMUService1 on the bus" 60 runner_on_bus ||
      die "$VMTEST_NAME" "tcmu-runner did not take org.kernel.TCMUService1"
  fi
  runner_alive || die "$VMTEST_NAME" "tcmu-runner exited during start-up"
  log "tcmu-runner up (pid $runner_pid)"
}

runner_log_has() { grep -F -- "$1" "$RUNNER_LOG" > /dev/null; }

# SIGTERM; the runner closes its devices and exits 0.
stop_runner() {
  kill -TERM "$runner_pid"
  local rc=0
  wait "$runner_pid" || rc=$?
  runner_pid=
  return "$rc"
}

# ---- LIO objects by raw configfs -------------------------------------------

# user_backstore NAME CFGSTRING SIZE [HW_MAX_SECTORS]: a user:<subtype>
# backstore (subtype = CFGSTRING up to the first /); prints its configfs dir.
# 1024 sectors (512 KiB) instead of the kernel's 128 lets commands span many
# regions. Enabling waits for the handler's open(); its reason is in the log.
user_backstore() {
  local dir=$TARGET/core/user_1/$1
  mkdir -p "$dir"
  echo -n "dev_config=$2" > "$dir/control"
  echo -n "dev_size=$3" > "$dir/control"
  echo -n "hw_max_sectors=${4:-1024}" > "$dir/control"
  echo 1 > "$dir/enable" || die "$VMTEST_NAME" "enabling user backstore $1 ($2) failed: see tcmu-runner.log"
  echo "$dir"
}

# fileio_backstore NAME PATH SIZE: LIO's in-kernel file backstore.
fileio_backstore() {
  local dir=$TARGET/core/fileio_1/$1
  mkdir -p "$dir"
  echo -n "fd_dev_name=$2,fd_dev_size=$3" > "$dir/control"
  echo 1 > "$dir/enable"
  echo "$dir"
}

remove_backstore() {
  rmdir "$1"
  rmdir "$(dirname "$1")" 2> /dev/null || true # the HBA, once empty
}

# A stable NAA WWN per name: naa. + IEEE OUI-style 5001405 + 9 hex digits.
wwn_for() { echo "naa.5001405$(printf %s "$1" | md5sum | cut -c1-9)"; }

scsi_disk_of() { ls "/sys/bus/scsi/devices/$1/block/" 2> /dev/null; }

# loop_lun BACKSTORE_DIR: LUN 0 of a tcm_loop target in front of it; prints
# the /dev/sdX the guest's SCSI stack made for it.
loop_lun() {
  local bs=$1 tpg addr
  tpg=$TARGET/loopback/$(wwn_for "$bs")/tpgt_1
  mkdir -p "$tpg/lun/lun_0"
  echo -n "$(wwn_for "initiator:$bs")" > "$tpg/nexus"
  ln -s "$bs" "$tpg/lun/lun_0/$(basename "$bs")"
  addr=$(cat "$tpg/address"):0
  wait_for "the SCSI disk at $addr" 30 scsi_disk_of "$addr" > /dev/null ||
    die "$VMTEST_NAME" "no disk appeared for the tcm_loop LUN of $bs"
  echo "/dev/$(scsi_disk_of "$addr")"
}

remove_loop_lun() {
  local tpg
  tpg=$TARGET/loopback/$(wwn_for "$1")/tpgt_1
  rm "$tpg/lun/lun_0/$(basename "$1")"
  rmdir "$tpg/lun/lun_0" "$tpg" "$(dirname "$tpg")"
}

# ---- targetcli --------------------------------------------------------------

# targetcli_batch CMD...: one targetcli process for all commands (each start
# costs seconds under TCG). targetcli carries on after a failed command and
# still exits 0, but it writes errors, and only errors, to stderr (once
# Python's warnings, such as rtslib's about its dbroot, are silenced).
targetcli_batch() {
  local out=$WORK/targetcli.out err=$WORK/targetcli.err
  printf '%s\n' "set global color_mode=false" "set global auto_save_on_exit=false" "$@" exit |
    PYTHONWARNINGS=ignore targetcli > "$out" 2> "$err" || true
  # awk, not sed: it ends the prompt left without a newline at exit.
  awk '{ print "targetcli| " $0 }' "$out"
  awk '{ print "targetcli error| " $0 }' "$err"
  [ ! -s "$err" ]
}

# ---- iSCSI initiator (open-iscsi) -------------------------------------------

start_iscsid() {
  mkdir -p /run/lock/iscsi /var/lib/iscsi
  iscsid
}

# iscsi_login IQN ADDRESS [IFACE]: discovery + login; prints the /dev/sdX.
# IFACE is open-iscsi's transport interface: default (TCP) or iser.
iscsi_login() {
  local iqn=$1 addr=$2 iface=${3:-default} disk
  iscsiadm -m discovery -t sendtargets -p "$addr" -I "$iface" > /dev/null
  iscsiadm -m node -T "$iqn" -p "$addr" -I "$iface" --login > /dev/null
  wait_for "the iSCSI disk of $iqn" 30 iscsi_disk_of "$iqn" > /dev/null ||
    die "$VMTEST_NAME" "logged in to $iqn but no disk appeared"
  echo "/dev/$(iscsi_disk_of "$iqn")"
}

iscsi_disk_of() {
  iscsiadm -m session -P 3 2> /dev/null |
    awk -v iqn="$1" '$1 == "Target:" { t = $2 } t == iqn && /Attached scsi disk/ { print $4; f = 1 } END { exit !f }'
}

iscsi_logout() {
  iscsiadm -m node -T "$1" -p "$2" --logout > /dev/null
  iscsiadm -m node -T "$1" -p "$2" -o delete
}

# ---- I/O ----------------------------------------------------------------------

# fio_verify NAME DEV SECONDS [FIO_OPTION...]: random writes of 36 KiB (not a
# divisor of any region size we use, so commands straddle region boundaries),
# each verified by crc32c, whose header carries the offset: data that lands
# on the wrong path or offset fails. JSON goes to $VMTEST_RESULTS/fio-NAME.json.
fio_verify() {
  local name=$1 dev=$2 secs=$3
  shift 3
  fio --name="$name" --filename="$dev" --ioengine=libaio --direct=1 --iodepth=16 \
    --rw=randwrite --bs=36k --verify=crc32c --verify_backlog=32 --verify_fatal=1 \
    --time_based --runtime="$secs" --output-format=json --eta=never \
    --output="$VMTEST_RESULTS/fio-$name.json" "$@" &&
    python3 "$here_lib/fio-summary.py" "$VMTEST_RESULTS/fio-$name.json"
}

# fio_fill NAME DEV: writes the whole device once, sequentially in 96 KiB
# commands (which straddle region boundaries), then reads it all back and
# verifies it. Afterwards every region holds fio data.
fio_fill() {
  local name=$1 dev=$2
  fio --name="$name" --filename="$dev" --ioengine=libaio --direct=1 --iodepth=16 \
    --rw=write --bs=96k --verify=crc32c --do_verify=1 --verify_fatal=1 \
    --output-format=json --eta=never --output="$VMTEST_RESULTS/fio-$name.json" &&
    python3 "$here_lib/fio-summary.py" "$VMTEST_RESULTS/fio-$name.json"
}

# ---- the switch handler's device config ------------------------------------

# switch_config FILE MODE REGION_SECTORS TABLE DEVICE...: writes a device
# config (GLib key file) with one path per DEVICE at offset 0; TABLE may be
# empty (every region then takes the round-robin default). The I/O engine is
# the handler's choice unless VMTEST_SWITCH_ENGINE (io_uring, sync) forces it.
switch_config() {
  local file=$1 mode=$2 sectors=$3 table=$4 dev i=0
  shift 4
  mkdir -p "$(dirname "$file")"
  {
    printf '[device]\nregion_sectors=%s\nmode=%s\ndefault=round-robin\nengine=%s\n' \
      "$sectors" "$mode" "${VMTEST_SWITCH_ENGINE:-auto}"
    [ -z "$table" ] || printf 'table=%s\n' "$table"
    for dev in "$@"; do
      printf '\n[path.%d]\ndevice=%s\noffset=0\nname=%s\n' "$i" "$dev" "$(basename "$dev")"
      i=$((i + 1))
    done
  } > "$file"
}

# placement_setup DIR REGION_SECTORS NR_REGIONS DEVICE...: the oracle's table
# and a placement-mode config over DEVICEs in DIR; prints the config's path.
placement_setup() {
  local dir=$1 sectors=$2 regions=$3
  shift 3
  mkdir -p "$dir"
  python3 "$here_lib/placement.py" table "$regions" "$#" > "$dir/table.txt"
  switch_config "$dir/lun.conf" placement "$sectors" "$dir/table.txt" "$@"
  echo "$dir/lun.conf"
}

# placement_loop_lun DIR REGION_SECTORS NR_REGIONS SIZE DEVICE...: a placement
# user:switch backstore lun0 of SIZE bytes over DEVICEs (placement_setup in
# DIR) behind a tcm_loop LUN. Sets conf, bs and dev (not for $(...)).
placement_loop_lun() {
  local dir=$1 sectors=$2 regions=$3 lun_size=$4
  shift 4
  conf=$(placement_setup "$dir" "$sectors" "$regions" "$@")
  bs=$(user_backstore lun0 "switch/$conf" "$lun_size")
  dev=$(loop_lun "$bs")
}

# placement_check LUN REGION_SECTORS NR_REGIONS DEVICE...: every region's data
# is on the path the table names and nowhere else.
placement_check() {
  local lun=$1 sectors=$2 regions=$3
  shift 3
  sync
  echo 3 > /proc/sys/vm/drop_caches
  python3 "$here_lib/placement.py" check --lun "$lun" --region-bytes $((sectors * 512)) \
    --regions "$regions" "$@"
}

# ---- user:switch over iSCSI: the user's own path (targetcli, open-iscsi) ---

# switch_iscsi_export NAME SIZE CONF IQN ADDR [iser]: targetcli creates
# user:switch NAME from the device config CONF and exports it as LUN 0 of IQN
# on ADDR:3260 only (no 0.0.0.0 default portal), with iSER on that portal too
# if asked; any initiator may log in, without CHAP.
switch_iscsi_export() {
  local name=$1 size=$2 conf=$3 iqn=$4 addr=$5 iser=${6:-}
  local tpg=/iscsi/$iqn/tpg1
  targetcli_batch \
    "set global auto_add_default_portal=false" \
    "/backstores/user:switch create name=$name size=$size cfgstring=$conf" \
    "/iscsi create $iqn" \
    "$tpg/luns create /backstores/user:switch/$name" \
    "$tpg/portals create $addr 3260" \
    ${iser:+"$tpg/portals/$addr:3260 enable_iser boolean=true"} \
    "$tpg set attribute authentication=0 demo_mode_write_protect=0 generate_node_acls=1 cache_dynamic_acls=1"
}

switch_iscsi_delete() {
  targetcli_batch "/iscsi delete $2" "/backstores/user:switch delete $1"
}

no_backstore_named() { ! ls -d "$TARGET"/core/*/"$1" > /dev/null 2>&1; }

# iscsi_transport_is IQN TRANSPORT: the session to IQN runs over TRANSPORT
# (tcp, iser), as `iscsiadm -m session` prints it.
iscsi_transport_is() { iscsiadm -m session | grep -E "^$2: .* $1( |$)" > /dev/null; }

# switch_over_iscsi TRANSPORT ADDR: scenarios iscsi and iser. A 3-path
# placement LUN over brd with a region of 200 sectors (not a power of two),
# created and exported by targetcli, logged in with open-iscsi over TRANSPORT
# (tcp or iser), filled and verified by fio, checked backend by backend
# against the table, then logged out and deleted with targetcli.
switch_over_iscsi() {
  local transport=$1 addr=$2 iface=default region_sectors=200 regions=480 size conf dev
  local iqn=iqn.2003-01.org.tcmu-switch.vm:$VMTEST_NAME paths=(/dev/ram0 /dev/ram1 /dev/ram2)
  [ "$transport" = tcp ] || iface=$transport
  size=$((regions * region_sectors * 512))   # a multiple of fio_fill's 96 KiB
  ram_disks 3 $((size / 1024))
  conf=$(placement_setup "$WORK/$VMTEST_NAME" "$region_sectors" "$regions" "${paths[@]}")

  must "targetcli: user:switch created, exported on $addr:3260 ($transport)" \
    switch_iscsi_export lun0 "$size" "$conf" "$iqn" "$addr" "${iface#default}"
  start_iscsid
  dev=$(iscsi_login "$iqn" "$addr" "$iface")
  pass "open-iscsi logged in to $addr: $dev"
  check "the session runs over $transport" iscsi_transport_is "$iqn" "$transport"
  check "fio over $transport: sequential fill + verify" fio_fill "$transport-fill" "$dev"
  check "fio over $transport: random write + verify" fio_verify "$transport-random" "$dev" 4
  check "every region on the path the table names" \
    placement_check "$dev" "$region_sectors" "$regions" "${paths[@]}"
  must "open-iscsi logged out" iscsi_logout "$iqn" "$addr"
  must "targetcli: target and backstore deleted" switch_iscsi_delete lun0 "$iqn"
  check "backstore gone from configfs" no_backstore_named lun0
}

# ---- device-mapper paths, for fault injection ----------------------------------

# No udev in the guest: libdevmapper then makes the /dev/mapper nodes itself
# instead of waiting for udev to confirm them.
dm() { DM_DISABLE_UDEV=1 dmsetup "$@"; }

# dm_path NAME DEV: /dev/mapper/NAME, a dm-linear map of the whole of DEV, to
# use as a path that dm_fail and dm_heal can break and mend under I/O without
# touching the data beneath; prints it.
dm_path() {
  load_modules dm_mod
  dm create "$1" --table "0 $(blockdev --getsz "$2") linear $2 0"
  [ -b "/dev/mapper/$1" ] || die "$VMTEST_NAME" "dmsetup create $1 made no /dev/mapper/$1"
  echo "/dev/mapper/$1"
}

# dm_swap NAME TABLE: loads TABLE and makes it live; resume suspends the map
# first, waiting for its in-flight I/O, so the swap is atomic for the path.
dm_swap() {
  dm load "$1" --table "$2"
  dm resume "$1"
}

# dm_fail NAME: every I/O to the path now fails with EIO (dm-error).
dm_fail() { dm_swap "$1" "0 $(blockdev --getsz "/dev/mapper/$1") error"; }

# dm_heal NAME DEV: the path reaches DEV again.
dm_heal() { dm_swap "$1" "0 $(blockdev --getsz "$2") linear $2 0"; }

dm_remove() { dm remove "$@"; }

# set_dev_config BACKSTORE_DIR CFGSTRING: one live reload (a RECONFIG round
# trip to the handler); the kernel keeps the new value only if the handler
# accepted it, so reading it back tells which.
set_dev_config() {
  echo -n "$2" > "$1/attrib/dev_config" 2> /dev/null && [ "$(cat "$1/attrib/dev_config")" = "$2" ]
}

# iscsi_export_raw IQN ADDR BACKSTORE_DIR...: an iSCSI target made by raw
# configfs, as libiscsi's own CI does (ci/lio_setup.sh): TPG 1 on ADDR:3260
# with the backstores as LUN 0, 1, ...; any initiator may log in (generated
# ACLs), without CHAP, and write.
iscsi_export_raw() {
  local iqn=$1 addr=$2 tpg i=0 bs
  shift 2
  load_modules iscsi_target_mod
  tpg=$TARGET/iscsi/$iqn/tpgt_1
  mkdir -p "$tpg"
  for bs in "$@"; do
    mkdir -p "$tpg/lun/lun_$i"
    ln -s "$bs" "$tpg/lun/lun_$i/$(basename "$bs")"
    i=$((i + 1))
  done
  echo 0 > "$tpg/attrib/authentication"
  echo 1 > "$tpg/attrib/generate_node_acls"
  echo 1 > "$tpg/attrib/cache_dynamic_acls"
  echo 0 > "$tpg/attrib/demo_mode_write_protect"
  mkdir "$tpg/np/$addr:3260"
  echo 1 > "$tpg/enable"
}

iscsi_unexport_raw() {
  local tpg=$TARGET/iscsi/$1/tpgt_1 lun
  echo 0 > "$tpg/enable"
  rmdir "$tpg"/np/*
  for lun in "$tpg"/lun/lun_*; do
    find "$lun" -maxdepth 1 -type l -delete   # the backstore link; the rest is configfs's
    rmdir "$lun"
  done
  rmdir "$tpg" "$TARGET/iscsi/$1"
}
