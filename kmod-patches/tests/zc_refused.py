#!/usr/bin/env python3
"""O_DIRECT I/O that a zero-copy kernel must not map, for zc_refused.sh.

  zc_refused.py thp DEV      256 KiB written and read back from a buffer in
                             a transparent huge page, then from one in small
                             pages (D9: the compound page takes the copy path)
  zc_refused.py foreign DEV  64 KiB written (A), then 128 KiB (B) at 8 MiB from another
                             live buffer; B must fail, A's pages must never
                             become B's data (D8, with zc_fault_skip_unmap=1)

Each prints what it did and exits 1 when the data is not exact or an I/O's
outcome is not the expected one.
"""
import ctypes
import mmap
import os
import sys

HUGE = 2 << 20
KIB = 1024
B_OFFSET = 8 << 20  # where no other I/O of zc_refused.sh goes


def anon(size):
    return mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)


def address(buf):
    return ctypes.addressof(ctypes.c_char.from_buffer(buf))


def anon_huge_kb():
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            if line.startswith("AnonHugePages:"):
                return int(line.split()[1])
    return 0


def huge_page_view(keep):
    """A 2 MiB view backed by one transparent huge page (keep holds the map)."""
    m = anon(2 * HUGE)
    keep.append(m)
    off = -address(m) % HUGE
    m.madvise(mmap.MADV_HUGEPAGE, off, HUGE)
    before = anon_huge_kb()
    view = memoryview(m)[off:off + HUGE]
    view[:] = b"\x5a" * HUGE  # first touch: the fault allocates the huge page
    if anon_huge_kb() - before < HUGE // KIB:
        sys.exit(f"no transparent huge page for the buffer (AnonHugePages {before} kB -> {anon_huge_kb()} kB)")
    return view


def write_read_exact(fd, view, offset, label):
    size = len(view)
    data = bytes((i * 7 + offset) & 0xFF for i in range(256)) * (size // 256)
    view[:] = data
    os.pwritev(fd, [view], offset)
    view[:] = b"\x00" * size
    os.preadv(fd, [view], offset)
    ok = view.tobytes() == data
    print(f"{label}: {size // KIB} KiB written and read back at {offset}: {'exact' if ok else 'MISMATCH'}")
    return ok


def thp(dev):
    keep = []
    fd = os.open(dev, os.O_RDWR | os.O_DIRECT)
    huge = huge_page_view(keep)
    print(f"buffer in a transparent huge page (AnonHugePages {anon_huge_kb()} kB)")
    ok = write_read_exact(fd, huge[:256 * KIB], 0, "huge page")
    small = anon(256 * KIB)
    small.madvise(mmap.MADV_NOHUGEPAGE)
    ok &= write_read_exact(fd, memoryview(small), 1 << 20, "small pages")
    return ok


def foreign(dev):
    fd = os.open(dev, os.O_RDWR | os.O_DIRECT)
    a, b = anon(64 * KIB), anon(128 * KIB)  # both stay mapped: B's pages are never A's
    a[:] = b"\xaa" * len(a)
    b[:] = b"\xbb" * len(b)
    os.pwritev(fd, [a], 0)
    print("A: 64 KiB written at 0")
    try:
        os.pwritev(fd, [b], B_OFFSET)
        print("B: 128 KiB written at 8 MiB: the handler was not stopped")
        return False
    except OSError as e:
        print(f"B: 128 KiB at 8 MiB failed: {e}")
    back = anon(128 * KIB)
    os.preadv(fd, [memoryview(back)[:64 * KIB]], 0)
    ok_a = back[:64 * KIB] == a[:]
    os.preadv(fd, [back], B_OFFSET)
    ok_b = back[:] == b"\x00" * len(back)
    print(f"A's range holds A: {ok_a}; B's range still zeroes (never A's bytes): {ok_b}")
    return ok_a and ok_b


if __name__ == "__main__":
    mode, dev = sys.argv[1], sys.argv[2]
    sys.exit(0 if {"thp": thp, "foreign": foreign}[mode](dev) else 1)
