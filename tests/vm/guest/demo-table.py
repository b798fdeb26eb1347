#!/usr/bin/env python3
"""The demo's table: IOPS and MB/s per fio job, and I/Os and MB per path,
from the paths' /sys/block/<dev>/stat before and after the run.

    demo-table.py FIO.json STAT.before STAT.after

A STAT file has one line per path: "<dev> <the 17 fields of /sys/block/<dev>/stat>".
"""
import json
import sys

# /sys/block/<dev>/stat fields (Documentation/block/stat.rst), 0-based.
READ_IOS, READ_SECTORS, WRITE_IOS, WRITE_SECTORS = 0, 2, 4, 6


def read_stats(path):
    stats = {}
    for line in open(path):
        dev, *fields = line.split()
        stats[dev] = [int(f) for f in fields]
    return stats


def job_rows(fio):
    yield "%-14s %10s %10s %10s %10s" % ("fio job", "read IOPS", "read MB/s", "write IOPS", "write MB/s")
    for job in fio["jobs"]:
        r, w = job["read"], job["write"]
        yield "%-14s %10.0f %10.1f %10.0f %10.1f" % (
            job["jobname"], r["iops"], r["bw_bytes"] / 1e6, w["iops"], w["bw_bytes"] / 1e6)


def path_rows(before, after):
    yield "%-6s %-11s %10s %10s %10s %10s" % ("path", "device", "read I/Os", "read MB", "write I/Os", "write MB")
    for nr, dev in enumerate(before):
        d = [a - b for a, b in zip(after[dev], before[dev])]
        yield "%-6d %-11s %10d %10.1f %10d %10.1f" % (
            nr, dev, d[READ_IOS], d[READ_SECTORS] * 512 / 1e6, d[WRITE_IOS], d[WRITE_SECTORS] * 512 / 1e6)


def main(fio_json, before, after):
    fio = json.load(open(fio_json))
    print("\n".join(job_rows(fio)))
    print()
    print("\n".join(path_rows(read_stats(before), read_stats(after))))
    print("\n(QEMU TCG guest, no KVM: compare ratios, not absolute numbers)")


if __name__ == "__main__":
    main(*sys.argv[1:])
