#!/usr/bin/env python3
"""Guard bytes around O_DIRECT transfers that do not cover whole pages.

    zc_canary.py DEVICE

O_DIRECT on a 512-byte-sector disk accepts buffers and lengths at 512-byte
alignment, so the first or last page of a transfer may also hold the
caller's other data. Through tcm_loop those pages reach target_core_user
as a pass-through sgl: zero copy must neither zero nor expose the bytes
outside the transfer. For each case, a page-aligned anonymous buffer is
filled with a guard pattern, the transfer's part with data; the data is
written (O_DIRECT), the guards checked, the transfer's part refilled with
another guard and read back, the data and the guards checked again. The
page-aligned 64 KiB and 256 KiB cases must still be mapped (the scenario
checks zc_stats), the others must be copied. Exit 1 on any damage.
"""
import mmap
import os
import sys

PAGE = mmap.PAGESIZE
# (name, buffer offset in its first page, length): all multiples of 512
CASES = [
    ("64 KiB + 512 at a page boundary", 0, 65536 + 512),
    ("68 KiB - 512 at a page boundary", 0, 69632 - 512),
    ("64 KiB at 512 into a page", 512, 65536),
    ("96 KiB + 1 KiB at 3 KiB into a page", 3072, 98304 + 1024),
    ("64 KiB, whole pages", 0, 65536),
    ("256 KiB, whole pages", 0, 262144),
]
GUARD_W, GUARD_R = 0xA5, 0x5A


def main():
    dev = sys.argv[1]
    fd = os.open(dev, os.O_RDWR | os.O_DIRECT)
    bad = 0
    lba_off = 0
    for name, start, length in CASES:
        span = (start + length + PAGE - 1) // PAGE * PAGE + PAGE
        # Private anonymous memory, like malloc(): Python's default
        # (MAP_SHARED) would be shmem page cache, which is always copied.
        buf = mmap.mmap(-1, span, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        view = memoryview(buf)
        data = os.urandom(length)
        buf[:] = bytes([GUARD_W]) * span
        buf[start:start + length] = data
        n = os.pwritev(fd, [view[start:start + length]], lba_off)
        problems = []
        if n != length:
            problems.append(f"write returned {n}")
        if buf[:start] != bytes([GUARD_W]) * start or \
           buf[start + length:] != bytes([GUARD_W]) * (span - start - length):
            problems.append("guard bytes changed by the WRITE")
        buf[:] = bytes([GUARD_R]) * span
        n = os.preadv(fd, [view[start:start + length]], lba_off)
        if n != length:
            problems.append(f"read returned {n}")
        if buf[start:start + length] != data:
            problems.append("data read back differs")
        if buf[:start] != bytes([GUARD_R]) * start or \
           buf[start + length:] != bytes([GUARD_R]) * (span - start - length):
            tail = buf[start + length:start + length + 16].hex()
            problems.append(f"guard bytes changed by the READ (after the transfer: {tail}...)")
        print(f"{'FAIL' if problems else 'ok  '} {name} ({length} bytes at +{start}): "
              f"{'; '.join(problems) or 'data exact, guards intact'}")
        bad += bool(problems)
        view.release()
        buf.close()
        lba_off += 1024 * 1024
    os.close(fd)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
