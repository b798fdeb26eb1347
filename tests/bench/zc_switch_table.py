#!/usr/bin/env python3
'''
zc_switch_table.py CSV: the table of tests/bench/zc_switch_bench_vm.sh. One
row per backend, transport, block size and direction: per configuration (zc,
copy, fileio) the median MB/s over the rounds and its spread (max - min as a
percentage of the median); the ratios ZC/copy and ZC/fileio, each the median
of the per-round ratios (rounds are interleaved, so a round's configurations
saw the same host load); CPU seconds per GiB (median) and the median per-round
ratio ZC/copy of it. Then the two goals of issue 14 and whether they are met.
'''

import csv
import statistics
import sys
from collections import defaultdict

CONFIGS = ('zc', 'copy', 'fileio')
GOAL_SPEED = 2.5   # ZC >= 2.5x copy on 1 MiB writes to null paths
GOAL_CPU = 0.5     # ZC CPU/GiB <= 0.5x copy


def spread(values):
    m = statistics.median(values)
    return 100.0 * (max(values) - min(values)) / m if m else float('nan')


def ratio(a, b):
    return a / b if b else float('nan')


def main(path):
    runs = defaultdict(dict)   # (backend, transport, bs, rw) -> {round: {config: (mbps, cpu)}}
    with open(path) as f:
        for row in csv.DictReader(f):
            key = (row['backend'], row['transport'], row['bs'], row['rw'])
            runs[key].setdefault(int(row['round']), {})[row['config']] = (float(row['mbps']),
                                                                         float(row['cpu_s_per_gib']))
    head = ('backend', 'transport', 'bs', 'rw', 'ZC MB/s', 'copy MB/s', 'fileio MB/s', 'ZC/copy', 'ZC/fileio',
            'ZC cpu s/GiB', 'copy cpu', 'fileio cpu', 'cpu ZC/copy')
    rows = []
    goals = {}
    for key in sorted(runs):
        rounds = [r for r in runs[key].values() if all(c in r for c in CONFIGS)]
        mb = {c: [r[c][0] for r in rounds] for c in CONFIGS}
        cpu = {c: [r[c][1] for r in rounds] for c in CONFIGS}
        zc_copy = statistics.median(ratio(r['zc'][0], r['copy'][0]) for r in rounds)
        zc_fileio = statistics.median(ratio(r['zc'][0], r['fileio'][0]) for r in rounds)
        cpu_ratio = statistics.median(ratio(r['zc'][1], r['copy'][1]) for r in rounds)
        cells = list(key)
        cells += ['%.0f ±%.0f%%' % (statistics.median(mb[c]), spread(mb[c])) for c in CONFIGS]
        cells += ['%.2f' % zc_copy, '%.2f' % zc_fileio]
        cells += ['%.2f' % statistics.median(cpu[c]) for c in CONFIGS]
        cells += ['%.2f' % cpu_ratio]
        rows.append(cells)
        goals[key] = (zc_copy, cpu_ratio, len(rounds))
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    for r in [head] + rows:
        print('  '.join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    print('(MB/s: median ±spread = (max - min) / median over the rounds; ratios: median of per-round ratios)')
    for transport in ('loop', 'iscsi'):
        key = ('null', transport, '1m', 'write')
        if key not in goals:
            continue
        speed, cpu, n = goals[key]
        print('goal, null paths, 1 MiB writes, %s (%d rounds): ZC/copy %.2f %s %.1f -> %s; '
              'CPU/GiB ZC/copy %.2f %s %.1f -> %s'
              % (transport, n, speed, '>=' if speed >= GOAL_SPEED else '<', GOAL_SPEED,
                 'met' if speed >= GOAL_SPEED else 'NOT met', cpu, '<=' if cpu <= GOAL_CPU else '>', GOAL_CPU,
                 'met' if cpu <= GOAL_CPU else 'NOT met'))


if __name__ == '__main__':
    main(sys.argv[1])
