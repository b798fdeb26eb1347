'''
The operations both front ends offer (switchctl for scripts, the `table`,
`paths` and `stats` commands of targetcli-switch): each takes a DeviceClient
and plain arguments and returns a JSON-able dict; render() turns that dict
into the text a person reads. Argument parsing that is ours (numbers, path
actions) lives here too; table syntax is the handler's business.
'''

import os
import tempfile


class UsageError(Exception):
    '''A malformed command line: exit status 2, nothing was sent.'''


# `paths fail N` etc. -> the state the handler is asked to set.
PATH_ACTIONS = {'fail': 'failed', 'restore': 'healthy', 'disable': 'disabled'}

SAVE_FORMATS = ('binary', 'text')

# The device's own counters: how command data reached the handler (zero copy
# on a kmod-patches kernel) and pieces that failed for their buffer.
DEVICE_COUNTERS = ('zc_mapped', 'zc_mapped_nogup', 'zc_copied', 'zc_page_cache_pieces', 'zc_direct_refused',
                   'buffer_faults')


def parse_number(text, what):
    '''A non-negative integer, decimal or 0x-prefixed hex; the error names what and the text.'''
    try:
        value = int(text, 16) if text.lower().startswith('0x') else int(text, 10)
    except (ValueError, AttributeError):
        raise UsageError('%s "%s" is not a number (decimal or 0x-prefixed hex)' % (what, text))
    if value < 0:
        raise UsageError('%s "%s" is negative' % (what, text))
    return value


def mapping_text(region_nr, path_nr):
    '''One dm-switch set_region_mappings entry: "index:path", both in hex.'''
    return '%x:%x' % (region_nr, path_nr)


def human_bytes(n):
    units = ('B', 'KiB', 'MiB', 'GiB', 'TiB')
    i, v = 0, float(n)
    while v >= 1024 and i < len(units) - 1:
        v, i = v / 1024, i + 1
    return ('%d %s' if v == int(v) else '%.1f %s') % (v, units[i])


def columns(headers, rows):
    '''Rows under headers, each column as wide as its widest cell.'''
    cells = [list(map(str, headers))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return ['  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]


# ---- the operations ----------------------------------------------------------


def table_summary(client):
    s = client.summary()
    return {'op': 'table summary', 'device': client.name, 'summary': s}


def table_load(client, path):
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        raise UsageError('cannot read table file %s: %s' % (path, e.strerror))
    generation = client.load_table(data)
    return {'op': 'table load', 'device': client.name, 'file': path, 'generation': generation}


def table_set(client, args):
    if not args:
        raise UsageError('set_region_mappings needs at least one mapping (dm-switch syntax, e.g. 0:1 R1,f)')
    text = ' '.join(args)
    generation = client.set_region_mappings(text)
    return {'op': 'table set', 'device': client.name, 'mappings': text, 'generation': generation}


def table_map(client, region, path):
    text = mapping_text(parse_number(region, 'region'), parse_number(path, 'path'))
    generation = client.set_region_mappings(text)
    return {'op': 'table map', 'device': client.name, 'mappings': text, 'generation': generation}


def table_save(client, path, fmt='binary'):
    if fmt not in SAVE_FORMATS:
        raise UsageError('table format "%s" is not one of %s' % (fmt, ', '.join(SAVE_FORMATS)))
    data = client.get_table() if fmt == 'binary' else client.get_table_text().encode('utf-8')
    write_atomically(path, data)
    return {'op': 'table save', 'device': client.name, 'file': path, 'format': fmt, 'bytes': len(data)}


def write_atomically(path, data):
    '''A reader of path (the handler at its next reload) sees the old file or the new one, never half.'''
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def paths_status(client):
    s = client.summary()
    return {'op': 'paths status', 'device': client.name, 'mode': s['mode'], 'paths': s['paths']}


def paths_set(client, action, path_nr):
    if action not in PATH_ACTIONS:
        raise UsageError('path action "%s" is not one of %s' % (action, ', '.join(sorted(PATH_ACTIONS))))
    n = parse_number(path_nr, 'path')
    client.set_path_state(n, PATH_ACTIONS[action])
    return {'op': 'paths ' + action, 'device': client.name, 'path_nr': n, 'state': client.path_state(n)}


def stats(client):
    s = client.summary()
    keep = ('generation', 'busy', 'engine', 'nr_workers', 'engine_luns', 'mode', 'path_counters') + DEVICE_COUNTERS
    out = {'op': 'stats', 'device': client.name, 'paths': s['paths']}
    out.update((k, s[k]) for k in keep)
    return out


# ---- text for people ---------------------------------------------------------


def render(result):
    '''The lines a person reads for an operation's result.'''
    op = result['op']
    if op == 'table summary':
        return render_summary(result['summary'])
    if op == 'paths status':
        return render_paths(result['paths'])
    if op == 'stats':
        return render_stats(result)
    if op == 'table save':
        return ['%s: table saved to %s (%s, %d bytes)' % (result['device'], result['file'], result['format'],
                                                          result['bytes'])]
    if op == 'table load':
        return ['%s: table loaded from %s: generation %d' % (result['device'], result['file'],
                                                             result['generation'])]
    if op in ('table set', 'table map'):
        return ['%s: mappings "%s" applied: generation %d' % (result['device'], result['mappings'],
                                                              result['generation'])]
    if op == 'heatmap':
        return ['%s: heatmap of generation %d written to %s' % (result['device'], result['generation'],
                                                                 result['file'])]
    if op.startswith('paths '):
        return ['%s: path %d is %s' % (result['device'], result['path_nr'], result['state'])]
    raise ValueError('no rendering for operation %r' % op)


def render_summary(s):
    region_bytes = s['region_sectors'] * 512
    lines = ['%s: %s, %d paths, %d regions of %d sectors (%s), default %s, generation %d' % (
        s['name'], s['mode'], s['nr_paths'], s['nr_regions'], s['region_sectors'], human_bytes(region_bytes),
        s['default'], s['generation'])]
    lines.append('size %s, engine %s with %d workers, shared by %d LUNs of this tcmu-runner' % (
        human_bytes(s['size_bytes']), s['engine'], s['nr_workers'], s['engine_luns']))
    lines.append('config %s' % s['config'])
    lines.append('table file %s' % (s['table_file'] or '(none: default mapping)'))
    return lines + render_paths(s['paths'])


def render_paths(paths):
    rows = [(p['path_nr'], p['name'], p['device'], p['state'], p['regions']) for p in paths]
    return columns(('path', 'name', 'device', 'state', 'regions'), rows)


def render_stats(result):
    # The handler lists the counters (handler/core/path.h's kPathCounterNames).
    counters = tuple(result['path_counters'])
    rows = [(p['path_nr'], p['name'], p['state']) + tuple(p[c] for c in counters) for p in result['paths']]
    lines = columns(('path', 'name', 'state') + counters, rows)
    lines.append('commands: %d zero-copy, %d zero-copy no-GUP, %d copied; pieces: %d no-GUP through the page '
                 'cache, %d zero-copy refused by O_DIRECT, %d failed for their buffer'
                 % tuple(result[k] for k in DEVICE_COUNTERS))
    lines.append('generation %d, %d commands refused busy' % (result['generation'], result['busy']))
    return lines
