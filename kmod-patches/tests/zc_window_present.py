#!/usr/bin/env python3
"""Pages of a zero-copy window a process still has mapped.

    zc_window_present.py PID UIO_DEVICE WINDOW_MB

Finds PID's mapping of UIO_DEVICE (/dev/uioN) in /proc/PID/maps; the window
is its last WINDOW_MB MiB (kmod-patches places it at the end of the map).
Prints the number of window pages present in /proc/PID/pagemap (bit 63).
"""
import struct
import sys


def main():
    pid, dev, window = sys.argv[1], sys.argv[2], int(sys.argv[3]) << 20
    end = None
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and fields[5] == dev:
                end = int(fields[0].split("-")[1], 16)
    if end is None:
        sys.exit(f"{dev} is not mapped by {pid}")
    present = 0
    with open(f"/proc/{pid}/pagemap", "rb") as pm:
        pm.seek((end - window) // 4096 * 8)
        raw = pm.read(window // 4096 * 8)
    for (entry,) in struct.iter_unpack("<Q", raw):
        present += entry >> 63
    print(present)


if __name__ == "__main__":
    main()
