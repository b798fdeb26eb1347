#!/usr/bin/env python3
"""The initiator's side of zc_tlb_gap.sh (D3): one O_DIRECT READ that the
handler (zc_test_handler tlbgap) never completes, then a watch on the
buffer.

  zc_tlb_gap.py DEV OFFSET WATCH_S RELEASE_FILE

Pinned to CPU 0, so that CPU 1 stays the handler's writer's alone. Reads
256 KiB at OFFSET into an anonymous buffer, prints how the READ ended and
after how long ("elapsed=S"), keeps the buffer's bytes as the READ left
them, sleeps WATCH_S seconds and compares. Once the READ has returned the
buffer is the initiator's again: no one else may store into it. Exit 0 if
it did not change, 1 if it did; but only once RELEASE_FILE exists (the
handler is gone), so that a writer that kept the page never stores into
it after it was freed and reused.
"""
import mmap
import os
import sys
import time

SIZE = 256 * 1024
FILL = b"\x11" * SIZE


def main():
    dev, offset, watch, release = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    os.sched_setaffinity(0, {0})
    fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, SIZE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    buf[:] = FILL
    start = time.monotonic()
    try:
        outcome = f"returned {os.preadv(fd, [buf], offset)} bytes"
    except OSError as e:
        outcome = f"failed ({e.strerror})"
    elapsed = time.monotonic() - start
    returned = bytes(buf)
    time.sleep(watch)
    later = bytes(buf)
    print(f"READ {outcome} after {elapsed:.1f} s")
    print(f"elapsed={elapsed:.1f}")
    print(f"the READ left {returned[:16].hex()}... ({sum(1 for i in range(0, SIZE, 8) if returned[i:i + 8] != FILL[:8])} words not 0x11)")
    changed = [i for i in range(0, SIZE, 8) if returned[i:i + 8] != later[i:i + 8]]
    if not changed:
        print(f"buffer unchanged in the {watch:g} s after the READ returned")
    else:
        first = changed[0]
        print(f"buffer changed after the READ returned: {len(changed)} words, the first at byte {first}: "
              f"{returned[first:first + 8].hex()} -> {later[first:first + 8].hex()}")
    sys.stdout.flush()
    while not os.path.exists(release):
        time.sleep(0.1)
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
