#!/usr/bin/env python3
"""One line per fio job from fio's JSON output; fails when a job reports an
error or a verifying job read nothing back (a verify that checked no data
proves nothing).

    fio-summary.py FIO.json
"""
import json
import sys


def summarize(job):
    write, read = job["write"], job["read"]
    line = "%s: write %.0f IOPS %.1f MiB/s" % (job["jobname"], write["iops"], write["bw"] / 1024)
    if write["total_ios"]:
        # Verify reads are timed oddly by fio; only their count means something.
        line += ", %d of %d writes read back and verified" % (read["total_ios"], write["total_ios"])
    else:
        line += ", read %.0f IOPS %.1f MiB/s" % (read["iops"], read["bw"] / 1024)
    return line


def main(path):
    ok = True
    for job in json.load(open(path))["jobs"]:
        print(summarize(job))
        verifying = job["job options"].get("verify", "0") not in ("0", "none")
        if job["error"] or (verifying and job["read"]["total_ios"] == 0):
            print("%s: error %d, %d verify reads" % (job["jobname"], job["error"], job["read"]["total_ios"]))
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
