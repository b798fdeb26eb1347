# Guest helpers: the LIO target in the kernel: modules, RAM disks, backstores and tcm_loop LUNs by raw configfs, targetcli batches, dev_config reloads. Sourced by lib.sh (scenarios source lib.sh only);
# uses the reporting helpers of report.sh.

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

# loop_lun BACKSTORE_DIR [NAME]: LUN 0 of a tcm_loop target in front of it;
# prints the /dev/sdX the guest's SCSI stack made for it. A second NAME gives
# the same backstore a second target: another initiator (I_T nexus).
loop_lun() {
  local bs=$1 tpg addr
  tpg=$TARGET/loopback/$(wwn_for "${2:-$bs}")/tpgt_1
  mkdir -p "$tpg/lun/lun_0"
  echo -n "$(wwn_for "initiator:${2:-$bs}")" > "$tpg/nexus"
  ln -s "$bs" "$tpg/lun/lun_0/$(basename "$bs")"
  addr=$(cat "$tpg/address"):0
  wait_for "the SCSI disk at $addr" 30 scsi_disk_of "$addr" > /dev/null ||
    die "$VMTEST_NAME" "no disk appeared for the tcm_loop LUN of $bs"
  echo "/dev/$(scsi_disk_of "$addr")"
}

# remove_loop_lun BACKSTORE_DIR [NAME]
remove_loop_lun() {
  local tpg
  tpg=$TARGET/loopback/$(wwn_for "${2:-$1}")/tpgt_1
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

# set_dev_config BACKSTORE_DIR CFGSTRING: one live reload (a RECONFIG round
# trip to the handler); the kernel keeps the new value only if the handler
# accepted it, so reading it back tells which.
set_dev_config() {
  echo -n "$2" > "$1/attrib/dev_config" 2> /dev/null && [ "$(cat "$1/attrib/dev_config")" = "$2" ]
}
