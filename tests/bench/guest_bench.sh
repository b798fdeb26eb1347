#!/usr/bin/env bash
# guest_bench: the guest half of tests/bench/run-all, run by tests/vm/run-guest
# (a benchmark, not a test: it fails only if a backstore cannot be set up or
# an I/O fails, never on speed).
#
# Three backstores, each on its own brd RAM disk(s) so that none of them pays
# for a file system the others skip:
#   switch  user:switch, 3 paths (/dev/ram0-2, O_DIRECT), placement, 64 KiB regions
#   file    tcmu-runner's user:file (file_example) on /dev/ram3
#   fileio  LIO's in-kernel fileio on /dev/ram4
# each reached through tcm_loop and through iSCSI on 127.0.0.1, and driven by
# fio (libaio, O_DIRECT, one job) with 4 KiB random reads and writes and
# 256 KiB sequential reads and writes. Runs are interleaved (per workload and
# transport, every backstore in turn) so that load drifting on the host hits
# all of them alike. With a kmod-patches kernel, user:switch also runs with
# zero copy on (switch-zc) next to the same backstore with it off (switch).
#
# Output: $VMTEST_RESULTS/fio-<transport>_<backstore>_<rw>_<bs>.json per run
# and bench-env.txt (kernel, vCPUs, backstore modes); tests/bench/report.py
# turns them into the table. Knobs (from the host's environment):
# VMTEST_BENCH_SECONDS (default 6), VMTEST_BENCH_RAMP (1), VMTEST_BENCH_IODEPTH (16).
. "$(dirname "$0")/lib.sh"
. "$VMTEST_TOP/kmod-patches/tests/zc-lib.sh"

secs=${VMTEST_BENCH_SECONDS:-6}
ramp=${VMTEST_BENCH_RAMP:-1}
depth=${VMTEST_BENCH_IODEPTH:-16}
size=$((128 * 1024 * 1024))
region_sectors=128
hw_max_sectors=2048  # zc_backstore's value; every user backstore gets the same
workloads=(randread:4k randwrite:4k read:256k write:256k)
transports=(loop iscsi)
declare -A backstore_dir disk

# fill_disks DEV...: brd allocates a page on first write; reading holes would
# measure memset, not the data path.
fill_disks() {
  local dev
  for dev in "$@"; do
    dd if=/dev/zero of="$dev" bs=1M count=$((size >> 20)) oflag=direct status=none
  done
}

make_backstores() {
  local conf=$WORK/bench/switch.conf
  switch_config "$conf" placement "$region_sectors" "" /dev/ram0 /dev/ram1 /dev/ram2
  if [ "$zero_copy" = 1 ]; then
    backstore_dir[switch]=$(zc_backstore switch0 "switch/$conf" "$size" zc_window_mb=288)
  else
    backstore_dir[switch]=$(user_backstore switch0 "switch/$conf" "$size" "$hw_max_sectors")
  fi
  backstore_dir[file]=$(user_backstore file0 "file//dev/ram3" "$size" "$hw_max_sectors")
  backstore_dir[fileio]=$(fileio_backstore fileio0 /dev/ram4 "$size")
}

# export_all: every backstore through tcm_loop and through its own iSCSI
# target; fills disk[<transport>_<backstore>] with the initiator's /dev/sdX.
export_all() {
  local name iqn
  start_iscsid
  for name in switch file fileio; do
    disk[loop_$name]=$(loop_lun "${backstore_dir[$name]}")
    iqn=$(zc_iscsi_export "${backstore_dir[$name]}" "bench-$name")
    disk[iscsi_$name]=$(iscsi_login "$iqn" 127.0.0.1)
    log "$name: loop ${disk[loop_$name]}, iscsi ${disk[iscsi_$name]}: $(tr -s '\n ' ' ' < "${backstore_dir[$name]}/info")"
  done
}

# run_fio TRANSPORT CONFIG DEV RW BS: one time-based run; JSON kept for the report.
run_fio() {
  local tag=$1_$2_$4_$5
  fio --name="$tag" --filename="$3" --ioengine=libaio --direct=1 --iodepth="$depth" --numjobs=1 \
    --rw="$4" --bs="$5" --time_based --runtime="$secs" --ramp_time="$ramp" --randrepeat=0 \
    --output-format=json --eta=never --output="$VMTEST_RESULTS/fio-$tag.json" > /dev/null &&
    python3 "$here_lib/fio-summary.py" "$VMTEST_RESULTS/fio-$tag.json"
}

# bench_one TRANSPORT CONFIG RW BS: CONFIG is a backstore name, or switch-zc
# (the switch backstore with zero copy on for this run only).
bench_one() {
  local transport=$1 config=$2 backstore=${2%-zc} dir
  dir=${backstore_dir[${2%-zc}]}
  if [ "$config" != "$backstore" ] && ! zc_set "$dir" zc_enable 1; then
    fail "$config: zc_enable=1" "refused by $dir/attrib/zc_enable"
    return 0
  fi
  if ! run_fio "$transport" "$config" "${disk[${transport}_$backstore]}" "$3" "$4"; then
    fail "fio $transport $config $3 $4" "see fio-${transport}_${config}_$3_$4.json"
  fi
  [ "$config" = "$backstore" ] || zc_set "$dir" zc_enable 0
}

write_env() {
  {
    echo "kernel $(uname -r), $(nproc) vCPUs (QEMU TCG), zero copy available: $zero_copy"
    echo "fio libaio direct=1 iodepth=$depth numjobs=1 runtime=${secs}s ramp=${ramp}s; LUNs of $((size >> 20)) MiB"
    echo "switch: 3 paths /dev/ram0-2, placement, region_sectors=$region_sectors, default workers, hw_max_sectors=$hw_max_sectors"
    echo "file: tcmu-runner file_example on /dev/ram3, hw_max_sectors=$hw_max_sectors"
    echo "fileio: LIO fileio on /dev/ram4: $(grep -o 'Mode: [^ ]*' "${backstore_dir[fileio]}/info" || true)"
  } > "$VMTEST_RESULTS/bench-env.txt"
}

target_up
load_modules iscsi_target_mod iscsi_tcp
zero_copy=0
if zc_kernel_has_series; then
  zero_copy=1
  zc_builtin_module_tree  # a kmod-patches kernel has its drivers built in
fi
ram_disks 5 $((size / 1024))
fill_disks /dev/ram0 /dev/ram1 /dev/ram2 /dev/ram3 /dev/ram4
start_runner
require_switch_handler
make_backstores
export_all
write_env
configs=(switch file fileio)
[ "$zero_copy" = 0 ] || configs+=(switch-zc)

for w in "${workloads[@]}"; do
  for t in "${transports[@]}"; do
    for c in "${configs[@]}"; do
      bench_one "$t" "$c" "${w%%:*}" "${w##*:}"
    done
  done
done
pass "benchmark runs finished (fio JSON in $VMTEST_RESULTS)"
