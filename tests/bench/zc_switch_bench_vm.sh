#!/usr/bin/env bash
# zc_switch_bench_vm: the guest half of tests/bench/zc_switch_bench.sh (a
# benchmark, not a test: it fails only if the I/O itself fails). Our handler
# (user:switch, placement, 3 paths, 1 MiB regions) with a zero-copy window,
# next to LIO fileio on a device of the same kind, for two kinds of path:
#   null  null_blk with memory_backed=0: the path copies nothing, so what is
#         left is the cost of getting the data to and from the handler
#   ram   brd RAM disks (sizes from the kernel command line)
# Each LUN is reached through tcm_loop (the initiator's pages: no-GUP ZC, which
# the handler sends through the page cache) and over iSCSI on 127.0.0.1
# (target pages: refcounted ZC, O_DIRECT). fio 256 KiB and 1 MiB, read and
# write, O_DIRECT, iodepth 16; configurations per round: ZC (zc_enable=1),
# copy (the same LUN, zc_enable=0), fileio, back to back. Per run: MB/s and
# the guest's CPU seconds per GiB moved (all CPUs, busy jiffies from
# /proc/stat around the fio run). Raw rows in zc-switch-bench.csv, the table
# (median, spread, ratios) in zc-switch-bench.txt.
. "$(dirname "$0")/lib.sh"
. "$VMTEST_TOP/kmod-patches/tests/zc-lib.sh"

secs=${VMTEST_ZC_BENCH_SECONDS:-3}
depth=${VMTEST_ZC_BENCH_IODEPTH:-16}
rounds=${VMTEST_ZC_BENCH_ROUNDS:-5}
lun_size=$((192 << 20))
io_size=128m            # the part of each LUN fio touches
region_sectors=2048     # 1 MiB: a 1 MiB command is one piece
csv=$VMTEST_RESULTS/zc-switch-bench.csv
table=$VMTEST_RESULTS/zc-switch-bench.txt

require_switch_handler
target_up
load_modules iscsi_target_mod iscsi_tcp
zc_require_kernel
start_iscsid
start_runner

# null_dev NAME: a null_blk device through configfs, memory_backed=0; the disk
# takes the configfs name. Prints /dev/NAME.
null_dev() {
  local d=/sys/kernel/config/nullb/$1
  mkdir "$d"
  echo $((lun_size >> 20)) > "$d/size"
  echo 0 > "$d/memory_backed"
  echo 1 > "$d/power"
  [ -b "/dev/$1" ] || die bench "null_blk made no /dev/$1"
  echo "/dev/$1"
}
[ -d /sys/kernel/config/nullb ] || die bench "no null_blk in kernel $(uname -r) (CONFIG_BLK_DEV_NULL_BLK)"
null_paths=("$(null_dev znull0)" "$(null_dev znull1)" "$(null_dev znull2)")
null_fileio=$(null_dev znull3)
ram_disks 4 $((lun_size >> 10))
ram_paths=(/dev/ram0 /dev/ram1 /dev/ram2)
ram_fileio=/dev/ram3

declare -A dev_of   # "<backend>,<transport>,<switch|fileio>" -> /dev/sdX
declare -A bs_of    # backend -> the switch backstore's configfs dir
for backend in null ram; do
  if [ "$backend" = null ]; then p=("${null_paths[@]}") f=$null_fileio; else p=("${ram_paths[@]}") f=$ram_fileio; fi
  switch_config "$WORK/bench-$backend/lun.conf" placement "$region_sectors" "" "${p[@]}"
  bsu=$(zc_backstore "sw_$backend" "switch/$WORK/bench-$backend/lun.conf" "$lun_size" \
    zc_window_mb=288 zc_nogup_slots=32)
  zc_set "$bsu" zc_special_enable 1
  bsf=$(fileio_backstore "fio_$backend" "$f" "$lun_size")
  bs_of[$backend]=$bsu
  dev_of[$backend,loop,switch]=$(loop_lun "$bsu")
  dev_of[$backend,loop,fileio]=$(loop_lun "$bsf")
  iqn=$(zc_iscsi_export "$bsu" "sw-$backend")
  dev_of[$backend,iscsi,switch]=$(iscsi_login "$iqn" 127.0.0.1)
  iqn=$(zc_iscsi_export "$bsf" "fio-$backend")
  dev_of[$backend,iscsi,fileio]=$(iscsi_login "$iqn" 127.0.0.1)
done
for d in "${dev_of[ram,loop,switch]}" "${dev_of[ram,loop,fileio]}"; do  # reads return written data
  fio --name=fill --filename="$d" --ioengine=libaio --direct=1 --iodepth="$depth" \
    --rw=write --bs=1m --size="$io_size" --eta=never --output=/dev/null
done

# Busy jiffies of all CPUs (user nice system irq softirq steal; not idle, iowait).
busy_jiffies() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# run NAME DEV RW BS: "MB/s CPU-s/GiB" of one time-based run.
run() {
  local json=$VMTEST_RESULTS/fio-$1.json c0 c1
  c0=$(busy_jiffies)
  fio --name="$1" --filename="$2" --ioengine=libaio --direct=1 --iodepth="$depth" \
    --rw="$3" --bs="$4" --size="$io_size" --time_based --runtime="$secs" \
    --output-format=json --eta=never --output="$json" > /dev/null
  c1=$(busy_jiffies)
  python3 - "$json" "$((c1 - c0))" "$(getconf CLK_TCK)" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
moved = j["read"]["io_bytes"] + j["write"]["io_bytes"]
secs = j["job_runtime"] / 1000.0
cpu = int(sys.argv[2]) / float(sys.argv[3])
print("%.1f %.3f" % (moved / 1e6 / secs, cpu / (moved / 2**30) if moved else float("nan")))
EOF
}

echo "round,backend,transport,bs,rw,config,mbps,cpu_s_per_gib" > "$csv"
for ((r = 1; r <= rounds; r++)); do
  log "round $r of $rounds"
  for backend in null ram; do
    for transport in loop iscsi; do
      for b in 256k 1m; do
        for rw in write read; do
          for config in zc copy fileio; do
            case $config in
              zc) zc_set "${bs_of[$backend]}" zc_enable 1; d=${dev_of[$backend,$transport,switch]} ;;
              copy) zc_set "${bs_of[$backend]}" zc_enable 0; d=${dev_of[$backend,$transport,switch]} ;;
              fileio) d=${dev_of[$backend,$transport,fileio]} ;;
            esac
            read -r mbps cpu < <(run "$r-$backend-$transport-$b-$rw-$config" "$d" "$rw" "$b")
            echo "$r,$backend,$transport,$b,$rw,$config,$mbps,$cpu" >> "$csv"
          done
        done
      done
    done
  done
done
for backend in null ram; do zc_log_stats "${bs_of[$backend]}"; done
{
  echo "zero-copy benchmark, user:switch (placement, 3 paths, 1 MiB regions) vs LIO fileio on the same kind of device"
  echo "QEMU TCG guest, $(nproc) vCPUs, kernel $(uname -r); fio O_DIRECT iodepth $depth, ${secs}s per run, $rounds interleaved rounds"
  echo "loop = tcm_loop (no-GUP ZC: the handler goes through the page cache); iscsi = 127.0.0.1 (refcounted ZC: O_DIRECT)"
  python3 "$VMTEST_TOP/tests/bench/zc_switch_table.py" "$csv"
  for backend in null ram; do
    echo "zc_stats sw_$backend: $(tr '\n' ' ' < "${bs_of[$backend]}/attrib/zc_stats")"
  done
} | tee "$table"
stop_runner || true
grep -F "zero copy: commands" "$RUNNER_LOG" | tee -a "$table" || true
pass "benchmark finished (figures in zc-switch-bench.txt)"
