#!/usr/bin/env python3
"""The routing oracle for LUNs whose paths all reach the same storage.

    routing.py check --lun DEV --region-bytes N --expected FILE PATH_DEV...

When every path reaches the same blocks (multipath on one disk), fio's verify
cannot see a misrouted I/O: the data is right whichever path carried it. This
watches the paths instead. Each PATH_DEV is a distinct block device (a
dm-linear map of the shared disk); for a sample of regions it reads the
region's first 4 KiB through the LUN with O_DIRECT and requires the read to be
counted, in /sys/dev/block/MAJ:MIN/stat, on the path FILE names for that
region and on no other path.

FILE holds one `region:path` line per region (hex, as `switchtab dump
--expand` prints; `#` lines are ignored). Nothing else may do I/O on the
paths while it runs (stop fio first).
"""
import argparse
import mmap
import os
import sys

BLOCK = 4096


def expected_paths(name):
    routes = {}
    with open(name) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                region, path = line.split(":")
                routes[int(region, 16)] = int(path, 16)
    return routes


def reads_completed(dev):
    rdev = os.stat(dev).st_rdev
    with open("/sys/dev/block/%d:%d/stat" % (os.major(rdev), os.minor(rdev))) as f:
        return int(f.read().split()[0])


def sample(regions, count):
    """First, last, and an even spread between: every path of a mixed table is hit."""
    if regions <= count:
        return list(range(regions))
    step = (regions - 1) / (count - 1)
    return sorted({round(i * step) for i in range(count)})


def check(args):
    routes = expected_paths(args.expected)
    fd = os.open(args.lun, os.O_RDONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, BLOCK)  # page-aligned, as O_DIRECT needs
    bad = []
    checked = sample(len(routes), args.samples)
    for region in checked:
        want = routes[region]
        before = [reads_completed(p) for p in args.paths]
        if os.preadv(fd, [buf], region * args.region_bytes) != BLOCK:
            bad.append("region %#x: short read through the LUN" % region)
            continue
        moved = [p for p, dev in enumerate(args.paths) if reads_completed(dev) != before[p]]
        if moved != [want]:
            bad.append("region %#x: table names path %d, the read was counted on %s" %
                       (region, want, moved or "no path"))
    os.close(fd)
    for line in bad[:20]:
        print(line)
    print("%d regions read, %d routed to the path the table names" % (len(checked), len(checked) - len(bad)))
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("--lun", required=True)
    c.add_argument("--region-bytes", type=int, required=True)
    c.add_argument("--expected", required=True)
    c.add_argument("--samples", type=int, default=24)
    c.add_argument("paths", nargs="+")
    args = ap.parse_args()
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
