#!/usr/bin/env bash
# zc_guest_vm: the guest half of tests/bench/zc_guest.sh (a benchmark, not a
# test: it fails only if the I/O itself fails). Three backstores on tmpfs
# files, one at a time, each exported over iSCSI on 127.0.0.1 and driven by
# fio with 256 KiB O_DIRECT commands: user:file with zero copy on (ZC), the
# same backstore with zero copy off (copy path), and LIO's in-kernel fileio.
# Prints MB/s per configuration and the ZC/copy and ZC/fileio ratios.
. "$(dirname "$0")/lib.sh"
. "$VMTEST_TOP/kmod-patches/tests/zc-lib.sh"

size=$((256 * 1024 * 1024))
secs=${VMTEST_ZC_BENCH_SECONDS:-15}
depth=${VMTEST_ZC_BENCH_IODEPTH:-16}
declare -A mbps

target_up
load_modules iscsi_target_mod iscsi_tcp
zc_require_kernel
start_iscsid
start_runner

# run_fio NAME DEV RW: MB/s of a time-based 256 KiB run.
run_fio() {
  local json=$VMTEST_RESULTS/fio-bench-$1-$3.json
  fio --name="$1-$3" --filename="$2" --ioengine=libaio --direct=1 --iodepth="$depth" \
    --rw="$3" --bs=256k --size=$((size / 2)) --time_based --runtime="$secs" --ramp_time=2 \
    --output-format=json --eta=never --output="$json" > /dev/null
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))["jobs"][0]; d=sys.argv[2]
print("%.1f" % ((j["read"]["bw_bytes"] + j["write"]["bw_bytes"]) / 1e6))' "$json" "$3"
}

# bench NAME BACKSTORE_DIR
bench() {
  local name=$1 bs=$2 iqn dev
  iqn=$(zc_iscsi_export "$bs" "bench-$name")
  dev=$(iscsi_login "$iqn" 127.0.0.1)
  # fill once so that reads return written data
  fio --name=fill --filename="$dev" --ioengine=libaio --direct=1 --iodepth="$depth" \
    --rw=write --bs=1m --size=$((size / 2)) --eta=never --output=/dev/null
  mbps[$name-write]=$(run_fio "$name" "$dev" write)
  mbps[$name-read]=$(run_fio "$name" "$dev" read)
  log "bench $name: write ${mbps[$name-write]} MB/s, read ${mbps[$name-read]} MB/s"
  [ ! -f "$bs/attrib/zc_stats" ] || zc_log_stats "$bs"
  iscsi_logout "$iqn" 127.0.0.1
  zc_iscsi_unexport "$bs" "$iqn"
}

truncate -s "$size" "$WORK/bench-user.img" "$WORK/bench-fileio.img"
bs=$(zc_backstore bench_user "file/$WORK/bench-user.img" "$size" zc_window_mb=288)
zc_set "$bs" zc_enable 1
bench zc "$bs"
zc_set "$bs" zc_enable 0
bench copy "$bs"
remove_backstore "$bs"
bs=$(fileio_backstore bench_fileio "$WORK/bench-fileio.img" "$size")
bench fileio "$bs"
remove_backstore "$bs"
stop_runner || true

ratio() { python3 -c 'import sys; a,b=map(float,sys.argv[1:]); print("%.2f" % (a/b) if b else "n/a")' "$1" "$2"; }
{
  echo "zero-copy benchmark: iSCSI over 127.0.0.1, fio 256 KiB O_DIRECT, iodepth $depth, ${secs}s per run,"
  echo "QEMU TCG guest on $(nproc) vCPUs, kernel $(uname -r); backstores on tmpfs; user:file = tcmu-runner file_example"
  printf '%-8s %12s %12s\n' config "write MB/s" "read MB/s"
  for c in zc copy fileio; do
    printf '%-8s %12s %12s\n' "$c" "${mbps[$c-write]}" "${mbps[$c-read]}"
  done
  printf 'ZC/copy   write %s  read %s\n' "$(ratio "${mbps[zc-write]}" "${mbps[copy-write]}")" \
    "$(ratio "${mbps[zc-read]}" "${mbps[copy-read]}")"
  printf 'ZC/fileio write %s  read %s\n' "$(ratio "${mbps[zc-write]}" "${mbps[fileio-write]}")" \
    "$(ratio "${mbps[zc-read]}" "${mbps[fileio-read]}")"
} | tee "$VMTEST_RESULTS/zc-bench.txt"
pass "benchmark finished (figures in zc-bench.txt)"
