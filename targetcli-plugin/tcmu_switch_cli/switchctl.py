'''
switchctl: the operations of targetcli-switch's switch LUN commands, for
scripts. Talks to handler_switch.so over D-Bus only.

Exit status: 0 done; 1 refused or failed (not root, bad input, no such LUN,
no tcmu-runner); 2 usage error (nothing was sent).
'''

import argparse
import json
import sys

from . import __version__, operations
from .client import DeviceClient, SwitchError
from .operations import UsageError

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2

USAGE_EPILOG = '''
examples:
  switchctl lun0 table summary
  switchctl lun0 table map 0x10 2               region 0x10 -> path 2
  switchctl lun0 table set 0:1 R1,ff            dm-switch set_region_mappings text
  switchctl lun0 table load /etc/tcmu-switch/lun0.table
  switchctl lun0 table save /etc/tcmu-switch/lun0.bin [--text]
  switchctl --json lun0 paths fail 1
  switchctl lun0 heatmap -o lun0.png
exit status: 0 done, 1 refused or failed, 2 usage error
'''


class Parser(argparse.ArgumentParser):
    '''argparse that raises instead of exiting, so usage errors get our exit status and JSON.'''

    def error(self, message):
        raise UsageError(message)


def build_parser():
    p = Parser(prog='switchctl', description='Manage a live user:switch LUN through handler_switch.so.',
               epilog=USAGE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--json', action='store_true', help='print the result (or the error) as JSON on stdout')
    p.add_argument('--version', action='version', version='%(prog)s (tcmu-switch) ' + __version__)
    p.add_argument('device', help='the LUN: its name under /backstores/user:switch')
    sub = p.add_subparsers(dest='group', required=True, parser_class=Parser)

    table = sub.add_parser('table', help='inspect or change the region table')
    tsub = table.add_subparsers(dest='action', required=True, parser_class=Parser)
    tsub.add_parser('summary', help='geometry, generation and regions per path')
    load = tsub.add_parser('load', help='replace the whole table with a file (binary or dm-switch text)')
    load.add_argument('file')
    m = tsub.add_parser('map', help='send one region to one path')
    m.add_argument('region', help='region number (decimal or 0x hex)')
    m.add_argument('path', help='path number (decimal or 0x hex)')
    st = tsub.add_parser('set', aliases=['set_region_mappings'], help='apply dm-switch set_region_mappings text')
    st.add_argument('mappings', nargs='+')
    save = tsub.add_parser('save', help='write the live table to a file')
    save.add_argument('file')
    save.add_argument('--text', action='store_true', help='dm-switch text instead of the binary format')

    paths = sub.add_parser('paths', help='path health')
    psub = paths.add_subparsers(dest='action', required=True, parser_class=Parser)
    psub.add_parser('status', help='state and regions of every path')
    for action, state in sorted(operations.PATH_ACTIONS.items()):
        a = psub.add_parser(action, help='set path N %s' % state)
        a.add_argument('path_nr', metavar='N')

    sub.add_parser('stats', help='per-path I/O counters')
    heat = sub.add_parser('heatmap', help='PNG of the region map and of I/O per path')
    heat.add_argument('-o', '--output', required=True, help='PNG file to write')
    return p


def run(args, client):
    '''The result dict of the operation args name.'''
    group, action = args.group, getattr(args, 'action', None)
    if group == 'table':
        if action == 'summary':
            return operations.table_summary(client)
        if action == 'load':
            return operations.table_load(client, args.file)
        if action == 'map':
            return operations.table_map(client, args.region, args.path)
        if action in ('set', 'set_region_mappings'):
            return operations.table_set(client, args.mappings)
        if action == 'save':
            return operations.table_save(client, args.file, 'text' if args.text else 'binary')
    if group == 'paths':
        if action == 'status':
            return operations.paths_status(client)
        return operations.paths_set(client, action, args.path_nr)
    if group == 'stats':
        return operations.stats(client)
    if group == 'heatmap':
        from . import heatmap
        return heatmap.render_png(client, args.output)
    raise UsageError('unknown command %s %s' % (group, action or ''))


def report_error(as_json, kind, message, out, err):
    err.write('switchctl: %s\n' % message)
    if as_json:
        out.write(json.dumps({'error': message, 'kind': kind}, sort_keys=True) + '\n')


def main(argv=None, client_factory=DeviceClient, out=sys.stdout, err=sys.stderr):
    argv = sys.argv[1:] if argv is None else argv
    as_json = '--json' in argv
    try:
        args = build_parser().parse_args(argv)
        result = run(args, client_factory(args.device))
    except UsageError as e:
        report_error(as_json, 'usage', str(e), out, err)
        return EXIT_USAGE
    except SwitchError as e:
        report_error(as_json, e.kind, str(e), out, err)
        return EXIT_REFUSED
    if args.json:
        out.write(json.dumps(result, sort_keys=True, indent=2) + '\n')
    else:
        out.write('\n'.join(operations.render(result)) + '\n')
    return EXIT_OK
