#!/usr/bin/env bash
# scale_bench_vm: the guest half of tests/bench/scale_bench.sh (a benchmark,
# not a test: it fails only if the I/O itself fails). One tcmu-runner serves
# 1, then 4, 16 and 64 user:switch LUNs (placement, 3 sparse tmpfs files per
# LUN, each behind its own tcm_loop target). At each step it records the
# runner's threads (all; the handler's `switch-*`, of which the engine's
# `switch-io*` workers), its RSS, and the total IOPS of one fio run of 4 KiB
# random reads across every LUN (one job per LUN, iodepth 2). tcmu-runner
# itself adds a command thread per device, whatever the handler does; the
# handler's share is the column to watch (one engine and one prober per
# process: constant). Table in scale-bench.txt, raw rows in scale-bench.csv.
. "$(dirname "$0")/lib.sh"

steps=(${VMTEST_SCALE_STEPS:-1 4 16 64})
secs=${VMTEST_SCALE_SECONDS:-5}
lun_size=$((16 << 20))
region_sectors=256
dir=$WORK/scale
csv=$VMTEST_RESULTS/scale-bench.csv
table=$VMTEST_RESULTS/scale-bench.txt

require_switch_handler
target_up
start_runner
mkdir -p "$dir"

# add_lun N: user:switch LUN N on three sparse files; prints its /dev/sdX.
add_lun() {
  local files=() p bs
  for p in 0 1 2; do
    truncate -s "$lun_size" "$dir/lun$1-path$p"
    files+=("$dir/lun$1-path$p")
  done
  switch_config "$dir/lun$1.conf" placement "$region_sectors" "" "${files[@]}"
  bs=$(user_backstore "scale$1" "switch/$dir/lun$1.conf" "$lun_size")
  loop_lun "$bs"
}

rss_mib() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' /proc/"$runner_pid"/status; }

# total_iops DEV...: one fio run, a job per LUN, summed read IOPS.
total_iops() {
  local args=() d i=0
  for d in "$@"; do args+=(--name="lun$i" --filename="$d"); i=$((i + 1)); done
  fio --rw=randread --bs=4k --direct=1 --ioengine=libaio --iodepth=2 --time_based \
    --runtime="$secs" --group_reporting --output-format=json --eta=never "${args[@]}" |
    jq '[.jobs[].read.iops] | add | floor'
}

echo "luns,threads,handler_threads,engine_threads,rss_mib,iops" > "$csv"
devs=()
for n in "${steps[@]}"; do
  while [ "${#devs[@]}" -lt "$n" ]; do devs+=("$(add_lun "${#devs[@]}")"); done
  iops=$(total_iops "${devs[@]}") || die bench "fio failed at $n LUNs"
  threads=$(runner_threads)
  handler=$(runner_threads switch-)
  engine=$(runner_threads switch-io)
  echo "$n,$threads,$handler,$engine,$(rss_mib),$iops" >> "$csv"
  pass "$n LUNs: $threads runner threads ($handler of the handler, $engine engine workers), $iops IOPS"
done

{
  echo "tcmu-runner with N user:switch LUNs (tcm_loop, placement on tmpfs files), kernel $(uname -r)"
  echo "fio 4 KiB randread, one job per LUN, iodepth 2, ${secs} s; QEMU TCG: compare ratios only"
  echo
  column -s, -t "$csv"
} > "$table"
cat "$table"
check "tcmu-runner exits 0 on SIGTERM" stop_runner
