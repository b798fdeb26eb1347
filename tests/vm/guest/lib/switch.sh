# Guest helpers: the switch handler's device configs and placement checks. Sourced by lib.sh (scenarios source lib.sh only);
# uses the reporting helpers of report.sh.

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

# expect_opened NR_PATHS: the handler's log shows a switch LUN opened with
# NR_PATHS paths, every one on O_DIRECT, on the engine the config asked for
# (engine = auto must choose io_uring on the guest's 6.1 kernel), and that
# the kernel would not take the data area as an io_uring fixed buffer.
expect_opened() {
  local engine=${VMTEST_SWITCH_ENGINE:-io_uring}
  [ "$engine" != auto ] || engine=io_uring
  check "handler opened $1 paths on O_DIRECT with the $engine engine" \
    grep -qE "opened: [a-z]+, $1 paths \($1 with O_DIRECT\), .*, $engine engine" "$RUNNER_LOG"
  # Linux 6.1's io_uring pins no file-backed memory but shmem and hugetlbfs
  # (uring_setup.h): a kernel that takes the UIO map must be looked at again.
  check "the kernel refuses the TCMU data area as an io_uring fixed buffer, and the handler says so" \
    grep -qF "fixed buffers: not used: the kernel refuses to register the TCMU data area (Operation not supported)" \
    "$RUNNER_LOG"
}
