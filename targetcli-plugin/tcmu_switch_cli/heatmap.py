'''
heatmap: a PNG of a live switch LUN. Top: the region map, one cell per
region (or per run of regions on big LUNs, coloured by the path most of them
use), row by row from region 0. Bottom: I/O per region range as the handler
counted it (pieces routed since open). Drawn by gnuplot (gnuplot-nox, png
terminal); the data comes from the handler over D-Bus.
'''

import math
import os
import subprocess
import tempfile

# The handler answers GetRegions with at most this many regions per call
# (handler/control/device_object.h, kMaxRegionsPerCall).
MAX_REGIONS_PER_CALL = 1 << 24

# Cells in the map: enough to see structure, few enough for gnuplot.
MAX_CELLS = 256 * 256


def fetch_region_map(client, nr_regions):
    '''The path of every region, as bytes (one byte per region).'''
    parts = []
    for first in range(0, nr_regions, MAX_REGIONS_PER_CALL):
        parts.append(client.get_regions(first, min(MAX_REGIONS_PER_CALL, nr_regions - first)))
    return b''.join(parts)


def downsample(path_of_region, nr_cells):
    '''
    nr_cells values: cell i covers an equal share of the regions and takes
    the path most of them use (the lowest path number on a tie).
    '''
    n = len(path_of_region)
    if n <= nr_cells:
        return list(path_of_region)
    cells = []
    for i in range(nr_cells):
        chunk = path_of_region[i * n // nr_cells:(i + 1) * n // nr_cells]
        counts = {}
        for p in chunk:
            counts[p] = counts.get(p, 0) + 1
        cells.append(min(counts, key=lambda p: (-counts[p], p)))
    return cells


def grid_shape(nr_cells):
    '''(columns, rows) of a near-square grid holding nr_cells, rows filled left to right.'''
    cols = max(1, int(math.ceil(math.sqrt(nr_cells))))
    return cols, int(math.ceil(nr_cells / float(cols)))


# Path colours, cycled when there are more paths (ColorBrewer Dark2).
PATH_COLOURS = ('#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666')


def palette(nr_paths):
    '''gnuplot palette: exactly one colour per path number, no blends between them.'''
    n = max(nr_paths, 2)
    return ', '.join('%d "%s"' % (p, PATH_COLOURS[p % len(PATH_COLOURS)]) for p in range(n))


def io_rows(bucket_shift, ios, nr_regions):
    '''(first region, count) of each bucket that covers part of the LUN.'''
    return [(b << bucket_shift, n) for b, n in enumerate(ios) if (b << bucket_shift) < nr_regions]


def matrix_text(cells, cols, empty='NaN'):
    '''gnuplot "matrix" data: one row of the grid per line, missing cells as empty.'''
    rows = []
    for start in range(0, len(cells), cols):
        row = list(cells[start:start + cols])
        row += [empty] * (cols - len(row))
        rows.append(' '.join(str(v) for v in row))
    return '\n'.join(rows) + '\n'


def gnuplot_script(png, summary, map_file, cols, rows, regions_per_cell, io_file, io_title):
    nr_paths = summary['nr_paths']
    names = ', '.join('"%d %s" %d' % (p['path_nr'], p['name'], p['path_nr']) for p in summary['paths'])
    return '\n'.join([
        'set terminal png size 1000,900',
        'set output "%s"' % png,
        'set multiplot layout 2,1',
        'set title "%s: path of each region (%d regions, %d per cell, row by row from region 0), generation %d"'
        % (summary['name'], summary['nr_regions'], regions_per_cell, summary['generation']),
        'set palette maxcolors %d' % max(nr_paths, 2),
        'set palette defined (%s)' % palette(nr_paths),
        'set cbrange [-0.5:%f]' % (max(nr_paths, 2) - 0.5),
        'set cbtics (%s)' % names,
        'set xrange [-0.5:%f]' % (cols - 0.5),
        'set yrange [%f:-0.5]' % (rows - 0.5),
        'unset xtics',
        'unset ytics',
        'plot "%s" matrix with image notitle' % map_file,
        'unset colorbox',
        'set autoscale',
        'set xtics',
        'set ytics',
        'set title "%s"' % io_title,
        'set xlabel "region"',
        'set ylabel "I/O pieces"',
        'plot "%s" using 1:2 with boxes fill solid 0.6 notitle' % io_file,
        'unset multiplot',
        ''])


def render_png(client, png):
    summary = client.summary()
    path_of_region = fetch_region_map(client, summary['nr_regions'])
    cells = downsample(path_of_region, MAX_CELLS)
    cols, rows = grid_shape(len(cells))
    shift, ios = client.region_io()
    with tempfile.TemporaryDirectory(prefix='switch-heatmap.') as d:
        map_file, io_file = os.path.join(d, 'map.dat'), os.path.join(d, 'io.dat')
        with open(map_file, 'w') as f:
            f.write(matrix_text(cells, cols))
        with open(io_file, 'w') as f:
            f.write(''.join('%d %d\n' % row for row in io_rows(shift, ios, summary['nr_regions'])))
        per = 'region' if shift == 0 else 'range of %d regions' % (1 << shift)
        io_title = 'I/O pieces per %s since the LUN was opened' % per
        script = gnuplot_script(os.path.abspath(png), summary, map_file, cols, rows,
                                max(1, -(-len(path_of_region) // len(cells))), io_file, io_title)
        run = subprocess.run(['gnuplot'], input=script.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if run.returncode != 0:
        from .client import SwitchError
        raise SwitchError('failed', 'gnuplot failed: %s' % run.stderr.decode(errors='replace').strip())
    return {'op': 'heatmap', 'device': client.name, 'file': png, 'cells': len(cells), 'generation':
            summary['generation']}
