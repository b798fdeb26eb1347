#!/usr/bin/env python3
"""The placement oracle: writes a region table in dm-switch
`set_region_mappings` syntax, and checks a placement-mode LUN against the same
layout by reading every backend directly.

    placement.py table NR_REGIONS NR_PATHS > table.txt
    placement.py routes NR_REGIONS NR_PATHS > routes.txt   (region:path per line, for routing.py)
    placement.py check --lun DEV --region-bytes N --regions N PATH...
    placement.py faulted --lun DEV --region-bytes N --regions N --faulted P PATH...

The expected path of each region comes from expected_path(), a formula; the
table is generated from the same formula but the checker never parses the
table, so a wrong parse, a wrong lookup and a wrong split all show up.

Layout, by quarter of the LUN (each quarter exercises one piece of syntax):
  1st: explicit `index:path`, written in descending index order
  2nd: `index:path` once, then `:path` (index = previous + 1)
  3rd: `index:2 :0` once, then `R2,m` (repeat the last 2 mappings m times)
  4th: not in the table: the device's default, round-robin (region r -> r mod N)

`faulted` reads every region through the LUN with O_DIRECT while path P is
broken (PATH... are the storage beneath the paths, still readable): regions
the table puts on P must fail with an I/O error, every other region must
return exactly what its own path holds (never zeros, never another path's
data). The handler answers MEDIUM ERROR, which the block layer reports as
ENODATA (BLK_STS_MEDIUM); EIO is accepted too.

Semantics checked (dm-switch): a path stores LUN byte X at path.offset + X
(offset 0 here), so region r's bytes must be at the same offsets on path
expected_path(r), and every other path must still be zero there.
"""
import argparse
import sys


def quarters(nr_regions):
    q = nr_regions // 4
    return q, 2 * q, 3 * q


def expected_path(r, nr_regions, nr_paths):
    q1, q2, q3 = quarters(nr_regions)
    if r < q1:
        return (r * r + r // 5) % nr_paths
    if r < q2:
        return (r // 3) % nr_paths
    if r < q3:
        return 2 if (r - q2) % 2 == 0 else 0
    return r % nr_paths


def table_tokens(nr_regions, nr_paths):
    q1, q2, q3 = quarters(nr_regions)
    path = lambda r: expected_path(r, nr_regions, nr_paths)
    tokens = ["%x:%x" % (r, path(r)) for r in reversed(range(q1))]
    tokens.append("%x:%x" % (q1, path(q1)))
    tokens += [":%x" % path(r) for r in range(q1 + 1, q2)]
    tokens += ["%x:2" % q2, ":0", "R2,%x" % (q3 - q2 - 2)]
    return tokens


def write_table(args):
    if args.paths < 3 or args.regions < 16:
        sys.exit("placement.py: need at least 3 paths and 16 regions")
    tokens = table_tokens(args.regions, args.paths)
    for i in range(0, len(tokens), 16):
        print(" ".join(tokens[i:i + 16]))


def write_routes(args):
    for r in range(args.regions):
        print("%x:%x" % (r, expected_path(r, args.regions, args.paths)))


def check(args):
    fds = [open(p, "rb", buffering=0) for p in [args.lun] + args.paths]
    lun, paths = fds[0], fds[1:]
    size = args.region_bytes
    zero = bytes(size)
    bad = []
    for r in range(args.regions):
        want = expected_path(r, args.regions, len(paths))
        off = r * size
        lun_data = pread(lun, off, size)
        if lun_data == zero:
            bad.append("region %d: LUN reads zeros (never written: the check would prove nothing)" % r)
            continue
        for p, f in enumerate(paths):
            data = pread(f, off, size)
            if p == want and data != lun_data:
                bad.append("region %d: path %d (%s) does not hold the LUN's data" % (r, p, args.paths[p]))
            elif p != want and data != zero:
                bad.append("region %d: path %d (%s) has data; the table names path %d" % (r, p, args.paths[p], want))
    for line in bad[:20]:
        print(line)
    if bad:
        print("%d problems in %d regions" % (len(bad), args.regions))
        return 1
    print("all %d regions on the path the table names, other paths zero" % args.regions)
    return 0


def faulted(args):
    import errno
    import mmap
    import os
    fd = os.open(args.lun, os.O_RDONLY | os.O_DIRECT)
    paths = [open(p, "rb", buffering=0) for p in args.paths]
    size = args.region_bytes
    buf = mmap.mmap(-1, size)  # page-aligned, as O_DIRECT needs
    bad, eio = [], 0
    for r in range(args.regions):
        want = expected_path(r, args.regions, len(paths))
        try:
            n = os.preadv(fd, [buf], r * size)
        except OSError as e:
            if e.errno in (errno.EIO, errno.ENODATA) and want == args.faulted:
                eio += 1
            else:
                bad.append("region %d (path %d): %s" % (r, want, e))
            continue
        if want == args.faulted:
            bad.append("region %d: read returned data although its path %d is broken" % (r, want))
        elif n != size or buf[:] != pread(paths[want], r * size, size) or buf[:] == bytes(size):
            bad.append("region %d: the LUN returned data that is not path %d's" % (r, want))
    os.close(fd)
    for line in bad[:20]:
        print(line)
    print("%d regions on broken path %d failed with an I/O error; %d other regions read, %d problems" %
          (eio, args.faulted, args.regions - eio, len(bad)))
    return 1 if bad or eio == 0 else 0


def pread(f, off, size):
    f.seek(off)
    data = f.read(size)
    if len(data) != size:
        sys.exit("short read at %d of %s" % (off, f.name))
    return data


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("table", "routes"):
        t = sub.add_parser(name)
        t.add_argument("regions", type=int)
        t.add_argument("paths", type=int)
    c = sub.add_parser("check")
    c.add_argument("--lun", required=True)
    c.add_argument("--region-bytes", type=int, required=True)
    c.add_argument("--regions", type=int, required=True)
    c.add_argument("paths", nargs="+")
    f = sub.add_parser("faulted")
    f.add_argument("--lun", required=True)
    f.add_argument("--region-bytes", type=int, required=True)
    f.add_argument("--regions", type=int, required=True)
    f.add_argument("--faulted", type=int, required=True)
    f.add_argument("paths", nargs="+")
    args = ap.parse_args()
    return {"table": write_table, "routes": write_routes, "check": check, "faulted": faulted}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
