#!/usr/bin/env python3
"""conformance-judge.py REF_LOG OURS_LOG REPORT SUITE...: iscsi-test-cu's
verbose logs of LIO fileio (REF) and user:switch (OURS) -> the per-suite table
(printed and written to REPORT) and one verdict line per suite on stdout,
"pass<TAB>name" or "fail<TAB>name<TAB>reason", for the scenario to report.

A test fileio passes must pass on user:switch; a test fileio skips may be
skipped ("[SKIPPED]" before CUnit's "passed": the device lacks a feature);
what fileio fails is not judged. Nothing is forgiven."""
import os
import re
import sys


def verdicts(path):
    """{suite: {test: passed|skipped|FAILED}} from CUnit's verbose output:
    "Suite: NAME", then "Test: NAME ...<iscsi-test-cu's own lines>passed|FAILED"."""
    out = {}
    text = open(path, errors="replace").read() if os.path.exists(path) else ""
    for block in re.split(r"^Suite: ", text, flags=re.M)[1:]:
        suite = block.split(None, 1)[0]
        tests = out.setdefault(suite, {})
        for m in re.finditer(r"Test: (\S+) \.\.\.(.*?)(passed|FAILED)", block, re.S):
            skipped = m.group(3) == "passed" and "[SKIPPED]" in m.group(2)
            tests[m.group(1)] = "skipped" if skipped else m.group(3)
    return out


def tally(tests):
    n = {v: sum(1 for x in tests.values() if x == v) for v in ("passed", "skipped", "FAILED")}
    return "%2d passed %2d skipped %2d failed" % (n["passed"], n["skipped"], n["FAILED"])


def full(tests):
    return bool(tests) and "FAILED" not in tests.values()


def main():
    ref_log, ours_log, report, suites = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    ref, ours = verdicts(ref_log), verdicts(ours_log)
    lines = ["%-24s %-32s %-32s" % ("suite", "fileio (LUN 0)", "user:switch (LUN 1)")]
    results = []
    full_ref = full_ours = 0
    for s in suites:
        r, o = ref.get(s, {}), ours.get(s, {})
        lines.append("%-24s %-32s %-32s" % (s, tally(r), tally(o)))
        full_ref += full(r)
        full_ours += full(o)
        if not o:
            results.append("fail\tconformance %s\tno test ran on user:switch (see iscsi-test-cu-lun1.log)" % s)
            continue
        worse = [t for t, v in r.items()
                 if (v == "passed" and o.get(t) != "passed") or (v == "skipped" and o.get(t) not in ("passed", "skipped"))]
        if worse:
            results.append("fail\tconformance %s\tpasses on fileio, not on user:switch: %s" % (s, " ".join(worse)))
        else:
            results.append("pass\tconformance %s" % s)
    lines.append("suites fully passed: fileio %d of %d, user:switch %d of %d" % (full_ref, len(suites), full_ours,
                                                                               len(suites)))
    with open(report, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines), file=sys.stderr)
    print("\n".join(results))


if __name__ == "__main__":
    main()
