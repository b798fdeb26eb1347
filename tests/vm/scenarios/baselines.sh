#!/usr/bin/env bash
# baselines: the two backstores user:switch is measured against, on the same
# kind of backing store (a brd RAM disk each), through tcm_loop and fio
# verify: tcmu-runner's upstream file handler (user:file, built from the tcmu
# source package by run-guest) and LIO's in-kernel fileio.
. "$(dirname "$0")/lib.sh"

size=$((96 * 1024 * 1024))  # a multiple of fio_fill's 96 KiB

target_up
ram_disks 2 $((size / 1024))
start_runner

# baseline NAME BACKSTORE_DIR: LUN, fill + verify, random write + verify, removal.
baseline() {
  local name=$1 bs=$2 dev
  dev=$(loop_lun "$bs")
  log "$name: $(tr -s '\n ' ' ' < "$bs/info")"
  pass "$name: tcm_loop LUN is $dev"
  check "$name: fio sequential fill + verify" fio_fill "$name-fill" "$dev"
  check "$name: fio random write + verify" fio_verify "$name-random" "$dev" 4
  remove_loop_lun "$bs"
  remove_backstore "$bs"
}

baseline user-file "$(user_backstore file0 "file//dev/ram0" "$size")"
baseline fileio "$(fileio_backstore fileio0 /dev/ram1 "$size")"
check "tcmu-runner exits 0 on SIGTERM" stop_runner
