#!/usr/bin/env python3
"""The host half of tests/bench/run-all: the core's data path next to fio.

For each workload (4 KiB random read/write, 256 KiB and 1 MiB sequential
read/write)
and each thread count, runs data_path_bench (SwitchDevice over 3 path files)
and then fio's io_uring engine on the same 3 files with as many threads
(numjobs) as the core has I/O workers and the same total queue depth, and
writes every figure and the core/fio ratios to a JSON file. Nothing here
fails on speed.

    host_bench.py --bench BIN --out host.json [--dir DIR] [--seconds S] [--repeat N]
                  [--workers 1,2] [--qd 32] [--lun-mib 256] [--lock-cost]
                  [--nr-paths 3] [--baseline OLD_BIN]

--baseline runs a second data_path_bench (an older build) in every round
too, right before the new one, so that a change is measured before and after
in one run under the same load; each row then also has the baseline's median
and its ratios. --nr-paths 1 puts every region on one path (256 KiB commands
are then one I/O after piece merging, four before).

--lock-cost runs only 4 KiB random writes, the core with its range lock on and
off in alternate rounds (issue #20: what ordering overlapping writes costs).

The files live on DIR (default /dev/shm, tmpfs: RAM-backed, no block layer;
run-all also measures a directory on the host's own disk, where O_DIRECT
completions are truly asynchronous).
Linux >= 6.6 accepts O_DIRECT on tmpfs (it still copies through the page
cache); older kernels refuse it, the core then opens the paths buffered and
fio runs with direct=0 to match. Which one ran is in each row ("direct").

CPU time: the core's from getrusage(RUSAGE_SELF) inside the bench over the
measured interval; fio's from RUSAGE_CHILDREN around the fio process (every thread,
start-up included), over fio's whole run, which has no ramp so that all of
its CPU time is spent on counted I/Os.
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time

WORKLOADS = [("randread", 4096), ("randwrite", 4096), ("read", 262144), ("write", 262144),
             ("read", 1048576), ("write", 1048576)]
NR_PATHS = 3
REGION_SECTORS = 128  # 64 KiB, dm-switch's documented example


def load_average():
    return round(os.getloadavg()[0], 2)


def make_path_files(directory, lun_bytes, nr_paths):
    os.makedirs(directory, exist_ok=True)
    paths = []
    for i in range(nr_paths):
        path = os.path.join(directory, "path%d" % i)
        with open(path, "wb") as f:
            # Allocate every page now, so reads touch data rather than holes.
            os.posix_fallocate(f.fileno(), 0, lun_bytes)
        paths.append(path)
    return paths


def run_core(args, paths, lun_bytes, rw, bs, workers, range_lock="on", bench=None):
    cmd = [bench or args.bench, "--paths", ",".join(paths), "--lun-bytes", str(lun_bytes), "--rw", rw,
           "--bs", str(bs), "--qd", str(args.qd), "--workers", str(workers),
           "--region-sectors", str(REGION_SECTORS), "--seconds", str(args.seconds),
           "--warmup", str(args.warmup), "--range-lock", range_lock]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    if out.stderr:
        sys.stderr.write(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_fio(args, paths, lun_bytes, rw, bs, workers, direct):
    cmd = ["fio", "--name=fio", "--filename=" + ":".join(paths), "--ioengine=io_uring",
           "--registerfiles=1", "--direct=%d" % direct, "--rw=" + rw, "--bs=%d" % bs,
           "--iodepth=%d" % (args.qd // workers), "--numjobs=%d" % workers, "--thread",
           "--group_reporting", "--time_based", "--runtime=%g" % args.seconds,
           "--size=%d" % lun_bytes, "--randrepeat=0", "--output-format=json", "--eta=never"]
    cpu_before = children_cpu_us()
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - start
    cpu_us = children_cpu_us() - cpu_before
    if proc.returncode != 0:
        raise RuntimeError("fio failed: %s\n%s" % (" ".join(cmd), proc.stderr))
    job = json.loads(proc.stdout[proc.stdout.index("{"):])["jobs"][0]
    ios = job["read"]["total_ios"] + job["write"]["total_ios"]
    nbytes = job["read"]["io_bytes"] + job["write"]["io_bytes"]
    secs = job["job_runtime"] / 1000.0 / workers  # job_runtime sums the group's threads
    return {"ios": ios, "seconds": round(secs, 3), "iops": round(ios / secs, 1),
            "mb_per_s": round(nbytes / secs / 1e6, 1), "cpu_us": round(cpu_us),
            "cpu_us_per_io": round(cpu_us / ios, 3) if ios else 0.0,
            "cpu_cores": round(cpu_us / 1e6 / wall, 3), "direct": bool(direct),
            "ctx_per_io": round(job["ctx"] / ios, 3) if ios else 0.0,  # fio: voluntary + involuntary
            "iodepth_per_job": args.qd // workers, "numjobs": workers}


def children_cpu_us():
    """User + system time of every reaped child so far (all of fio's threads)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r.ru_utime + r.ru_stime) * 1e6


def ratio(a, b):
    return round(a / b, 3) if b else None


def median_sample(samples):
    return sorted(samples, key=lambda f: f["iops"])[len(samples) // 2]


def bench_pair(args, paths, lun_bytes, rw, bs, workers):
    """args.repeat rounds of core then fio; the row keeps each side's median
    round and the spread of the per-round ratios (the host is shared)."""
    load = load_average()
    cores, fios, bases = [], [], []
    for _ in range(args.repeat):
        if args.baseline:
            bases.append(run_core(args, paths, lun_bytes, rw, bs, workers, bench=args.baseline))
        cores.append(run_core(args, paths, lun_bytes, rw, bs, workers))
        fios.append(run_fio(args, paths, lun_bytes, rw, bs, workers, 1 if cores[-1]["direct"] else 0))
    core, fio = median_sample(cores), median_sample(fios)
    round_ratios = [ratio(c["iops"], f["iops"]) for c, f in zip(cores, fios)]
    row = {"rw": rw, "bs": bs, "workers": workers, "qd": args.qd, "load_before": load,
           "load_after": load_average(), "rounds": args.repeat, "core": core, "fio": fio,
           "core_over_fio_iops": ratio(core["iops"], fio["iops"]),
           "round_ratios": round_ratios,
           "core_over_fio_cpu_per_io": ratio(core["cpu_us_per_io"], fio["cpu_us_per_io"])}
    print("host %-9s %3d KiB workers=%d qd=%d: core %9.0f IOPS %7.1f MB/s %6.2f us CPU/IO %d allocs | "
          "fio %9.0f IOPS %7.1f MB/s %6.2f us CPU/IO | core/fio %.2f (rounds %s; load %.1f)" % (
              rw, bs // 1024, workers, args.qd, core["iops"], core["mb_per_s"], core["cpu_us_per_io"],
              core["allocations"], fio["iops"], fio["mb_per_s"], fio["cpu_us_per_io"],
              row["core_over_fio_iops"] or 0, " ".join("%.2f" % r for r in round_ratios), load), flush=True)
    if bases:
        base = median_sample(bases)
        row.update({"baseline": base, "baseline_over_fio_iops": ratio(base["iops"], fio["iops"]),
                    "baseline_over_fio_cpu_per_io": ratio(base["cpu_us_per_io"], fio["cpu_us_per_io"]),
                    "core_over_baseline_iops": ratio(core["iops"], base["iops"])})
        print("     baseline %9.0f IOPS %6.2f us CPU/IO %.2f sleeps/IO %.2f pieces/IO | new %.2f sleeps/IO "
              "%.2f pieces/IO | fio %.2f ctx/IO | baseline/fio %.2f, CPU/IO %.2f | new/fio %.2f, CPU/IO %.2f | "
              "new/baseline %.2f" % (
                  base["iops"], base["cpu_us_per_io"], base["sleeps_per_io"], base["pieces_per_io"],
                  core["sleeps_per_io"], core["pieces_per_io"], fio["ctx_per_io"],
                  row["baseline_over_fio_iops"] or 0, row["baseline_over_fio_cpu_per_io"] or 0,
                  row["core_over_fio_iops"] or 0, row["core_over_fio_cpu_per_io"] or 0,
                  row["core_over_baseline_iops"] or 0), flush=True)
    return row


def lock_cost(args, paths, lun_bytes, workers):
    """4 KiB random writes with the range lock on, then off, args.repeat
    times; each side keeps its median round."""
    ons, offs = [], []
    for _ in range(args.repeat):
        ons.append(run_core(args, paths, lun_bytes, "randwrite", 4096, workers, "on"))
        offs.append(run_core(args, paths, lun_bytes, "randwrite", 4096, workers, "off"))
    on, off = median_sample(ons), median_sample(offs)
    row = {"rw": "randwrite", "bs": 4096, "workers": workers, "qd": args.qd, "rounds": args.repeat,
           "lock_on": on, "lock_off": off, "on_over_off_iops": ratio(on["iops"], off["iops"]),
           "on_over_off_cpu_per_io": ratio(on["cpu_us_per_io"], off["cpu_us_per_io"]),
           "rounds_iops_on": [r["iops"] for r in ons], "rounds_iops_off": [r["iops"] for r in offs]}
    print("host randwrite 4 KiB workers=%d qd=%d: range lock on %9.0f IOPS %6.2f us CPU/IO %d allocs | "
          "off %9.0f IOPS %6.2f us CPU/IO | on/off IOPS %.3f, CPU/IO %.3f" % (
              workers, args.qd, on["iops"], on["cpu_us_per_io"], on["allocations"], off["iops"],
              off["cpu_us_per_io"], row["on_over_off_iops"] or 0, row["on_over_off_cpu_per_io"] or 0), flush=True)
    return row


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bench", required=True, help="data_path_bench binary")
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--dir", default="/dev/shm", help="where the path files go (default RAM-backed)")
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--warmup", type=float, default=1)
    p.add_argument("--repeat", type=int, default=3, help="rounds per configuration; medians are kept")
    p.add_argument("--workers", default="1,2", help="comma-separated I/O thread counts")
    p.add_argument("--qd", type=int, default=32, help="commands in flight in total")
    p.add_argument("--lun-mib", type=int, default=256)
    p.add_argument("--lock-cost", action="store_true", help="only the range lock's cost: 4 KiB randwrite, on vs off")
    p.add_argument("--nr-paths", type=int, default=NR_PATHS, help="path files (1: every region on one path)")
    p.add_argument("--baseline", help="an older data_path_bench, run in every round next to --bench")
    args = p.parse_args()

    lun_bytes = args.lun_mib << 20
    work = os.path.join(args.dir, "tcmu-switch-bench.%d" % os.getpid())
    rows = []
    try:
        paths = make_path_files(work, lun_bytes, args.nr_paths)
        for workers in (int(w) for w in args.workers.split(",")):
            if args.lock_cost:
                rows.append(lock_cost(args, paths, lun_bytes, workers))
                continue
            for rw, bs in WORKLOADS:
                rows.append(bench_pair(args, paths, lun_bytes, rw, bs, workers))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    doc = {"kernel": os.uname().release, "nproc": os.cpu_count(), "dir": args.dir,
           "nr_paths": args.nr_paths, "region_sectors": REGION_SECTORS, "seconds": args.seconds,
           "fio_version": subprocess.run(["fio", "--version"], capture_output=True, text=True).stdout.strip(),
           "rows": rows}
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)


if __name__ == "__main__":
    main()
