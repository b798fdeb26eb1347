#!/usr/bin/env bash
# run-host-test.sh TEST_BINARY BENCH_BINARY: starts a one-node Ceph cluster
# (mini-cluster.sh) in a fresh directory under /var/tmp, runs the RBD host
# test against it, prints the RBD path's 4 KiB and 256 KiB figures next to a
# local file path's (data_path_bench, same run, same machine), and stops the
# cluster whatever happened. Exit status: the test's.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
test_bin=${1:?usage: run-host-test.sh TEST_BINARY BENCH_BINARY}
bench_bin=${2:?usage: run-host-test.sh TEST_BINARY BENCH_BINARY}
dir=$(mktemp -d /var/tmp/tcmu-switch-ceph.XXXXXX)
rmdir "$dir"  # mini-cluster.sh makes it
trap '"$here/mini-cluster.sh" stop "$dir"; rm -f "$dir.bench.err"' EXIT

"$here/mini-cluster.sh" start "$dir" 2> "$dir.start.log" || {
  cat "$dir.start.log" >&2
  rm -f "$dir.start.log"
  exit 1
}
rm -f "$dir.start.log"
MINI_CEPH_DIR=$dir "$test_bin"
rc=$?

# Figures: QD 16, 5 s each, one path per LUN. The RBD path goes through
# librbd to the one memstore OSD over loopback; the file is on the host's disk.
file=$dir/bench.img
truncate -s 64M "$file"
echo "rbd path vs local file path (data_path_bench, qd 16, 1 worker, 5 s each):"
for bs in 4096 262144; do
  for rw in randwrite randread; do
    for path in rbd:ssd/lun0 "$file"; do
      out=$(CEPH_CONF=$dir/ceph.conf "$bench_bin" --paths "$path" --lun-bytes $((64 << 20)) --rw "$rw" \
        --bs "$bs" --qd 16 --workers 1 --seconds 5 --warmup 1 2> "$dir.bench.err")
      printf '  %-7s %-9s %-14s %s\n' "$((bs / 1024))KiB" "$rw" "${path##*/}" \
        "$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("%8.1f MB/s %8.0f IOPS %7.1f us CPU/IO" % (r["mb_per_s"], r["iops"], r["cpu_us_per_io"]))' "$out" 2> /dev/null || echo "$out")"
    done
  done
done
exit "$rc"
