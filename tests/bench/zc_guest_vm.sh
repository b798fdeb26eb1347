#!/usr/bin/env bash
# zc_guest_vm: the guest half of tests/bench/zc_guest.sh (a benchmark, not a
# test: it fails only if the I/O itself fails). Two backstores on tmpfs files,
# both exported over iSCSI on 127.0.0.1 and driven by fio with 256 KiB
# O_DIRECT commands: user:file with zero copy on (ZC) and off (copy path,
# same LUN, zc_enable=0), and LIO's in-kernel fileio. Prints MB/s per round
# and configuration and the median ZC/copy and ZC/fileio ratios.
. "$(dirname "$0")/lib.sh"
. "$VMTEST_TOP/kmod-patches/tests/zc-lib.sh"

size=$((256 * 1024 * 1024))
secs=${VMTEST_ZC_BENCH_SECONDS:-8}
depth=${VMTEST_ZC_BENCH_IODEPTH:-16}

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

# Host load under TCG drifts by minutes, so the configurations are
# interleaved: each round runs ZC, copy (the same LUN with zc_enable=0) and
# fileio back to back; the ratios are taken per round and their median
# reported.
rounds=${VMTEST_ZC_BENCH_ROUNDS:-3}
truncate -s "$size" "$WORK/bench-user.img" "$WORK/bench-fileio.img"
bu=$(zc_backstore bench_user "file/$WORK/bench-user.img" "$size" zc_window_mb=288)
bf=$(fileio_backstore bench_fileio "$WORK/bench-fileio.img" "$size")
iqn_u=$(zc_iscsi_export "$bu" bench-user)
iqn_f=$(zc_iscsi_export "$bf" bench-fileio)
dev_u=$(iscsi_login "$iqn_u" 127.0.0.1)
dev_f=$(iscsi_login "$iqn_f" 127.0.0.1)
for d in "$dev_u" "$dev_f"; do   # fill once so that reads return written data
  fio --name=fill --filename="$d" --ioengine=libaio --direct=1 --iodepth="$depth" \
    --rw=write --bs=1m --size=$((size / 2)) --eta=never --output=/dev/null
done

ratio() { python3 -c 'import sys; a,b=map(float,sys.argv[1:]); print("%.2f" % (a/b) if b else "nan")' "$1" "$2"; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
rz_w=() rz_r=() rf_w=() rf_r=()
{
  echo "zero-copy benchmark: iSCSI over 127.0.0.1, fio 256 KiB O_DIRECT, iodepth $depth, ${secs}s per run, $rounds rounds"
  echo "QEMU TCG guest on $(nproc) vCPUs, kernel $(uname -r); backstores on tmpfs; user:file = tcmu-runner file_example"
  printf '%-6s %-8s %12s %12s\n' round config "write MB/s" "read MB/s"
} | tee "$VMTEST_RESULTS/zc-bench.txt"
for ((r = 1; r <= rounds; r++)); do
  zc_set "$bu" zc_enable 1
  zw=$(run_fio zc "$dev_u" write) zr=$(run_fio zc "$dev_u" read)
  zc_set "$bu" zc_enable 0
  cw=$(run_fio copy "$dev_u" write) cr=$(run_fio copy "$dev_u" read)
  fw=$(run_fio fileio "$dev_f" write) fr=$(run_fio fileio "$dev_f" read)
  {
    printf '%-6s %-8s %12s %12s\n' "$r" zc "$zw" "$zr"
    printf '%-6s %-8s %12s %12s\n' "$r" copy "$cw" "$cr"
    printf '%-6s %-8s %12s %12s\n' "$r" fileio "$fw" "$fr"
  } | tee -a "$VMTEST_RESULTS/zc-bench.txt"
  rz_w+=("$(ratio "$zw" "$cw")") rz_r+=("$(ratio "$zr" "$cr")")
  rf_w+=("$(ratio "$zw" "$fw")") rf_r+=("$(ratio "$zr" "$fr")")
done
zc_log_stats "$bu"
{
  printf 'ZC/copy   write %s  read %s   (median of rounds; per round: write %s, read %s)\n' \
    "$(median "${rz_w[@]}")" "$(median "${rz_r[@]}")" "${rz_w[*]}" "${rz_r[*]}"
  printf 'ZC/fileio write %s  read %s   (median of rounds; per round: write %s, read %s)\n' \
    "$(median "${rf_w[@]}")" "$(median "${rf_r[@]}")" "${rf_w[*]}" "${rf_r[*]}"
} | tee -a "$VMTEST_RESULTS/zc-bench.txt"

iscsi_logout "$iqn_u" 127.0.0.1
iscsi_logout "$iqn_f" 127.0.0.1
zc_iscsi_unexport "$bu" "$iqn_u"
zc_iscsi_unexport "$bf" "$iqn_f"
remove_backstore "$bu"
remove_backstore "$bf"
stop_runner || true
pass "benchmark finished (figures in zc-bench.txt)"
