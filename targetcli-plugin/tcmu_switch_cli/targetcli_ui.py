'''
targetcli-switch: targetcli itself, in which every /backstores/user:switch
storage object also answers `table`, `paths` and `stats`.

targetcli has no plugin loader. UIUserBackedBackstore builds its storage
object nodes through the module-level name UIUserBackedStorageObject (in
__init__, as so_cls, and in ui_command_create), so rebinding that name to a
factory is the one hook: switch objects get UISwitchStorageObject, every
other handler's objects the stock class. Everything else, saveconfig and
restoreconfig included, is targetcli's own code, run by targetcli's own main().
'''

import importlib.machinery
import importlib.util
import sys

from configshell_fb import ExecutionError
from targetcli import __version__ as targetcli_version
from targetcli import ui_backstore

from . import __version__, operations
from .client import DeviceClient, SwitchError
from .operations import UsageError

SUBTYPE = 'switch'
USAGE = '''usage: targetcli-switch [--help | --version | CMD | --disable-daemon]

targetcli, in which every storage object under /backstores/user:switch also
answers the table, paths and stats commands (`help table` inside the shell).
The arguments are targetcli's: CMD runs one shell command and exits; without
one, the configuration shell starts.

  --help            print this help
  --version         print the versions of targetcli-switch and targetcli
  --disable-daemon  turn off targetcli's global auto_use_daemon flag
'''
TARGETCLI_SCRIPT = '/usr/bin/targetcli'

StockUserBackedStorageObject = ui_backstore.UIUserBackedStorageObject


class UISwitchStorageObject(StockUserBackedStorageObject):
    '''
    A user:switch storage object: the stock node plus the live table, path
    health and counters of handler_switch.so.
    '''

    def _run(self, operation, *args):
        try:
            result = operation(DeviceClient(self.rtsnode.name), *args)
        except (UsageError, SwitchError) as e:
            raise ExecutionError('%s: %s' % (self.rtsnode.name, e))
        return result

    def _show(self, result):
        for line in operations.render(result):
            self.shell.con.display(line)

    def _log(self, result):
        self.shell.log.info(operations.render(result)[0])

    def ui_command_table(self, action='summary', *args):
        '''
        Shows or changes the live region table of this LUN.

        table summary                  geometry, generation, regions per path
        table load FILE                replace the whole table (binary or dm-switch text)
        table map REGION PATH          send one region to one path (decimal or 0x hex)
        table set_region_mappings M..  apply dm-switch set_region_mappings text, e.g. 0:1 R1,ff
        table save FILE [text]         write the live table to FILE (binary unless "text")

        Changes are live at once and all-or-nothing; only root may make them.
        A dev_config reload or a restart loads the config's table file again:
        save to that file to keep a change.
        '''
        if action == 'summary' and not args:
            self._show(self._run(operations.table_summary))
        elif action == 'load' and len(args) == 1:
            self._log(self._run(operations.table_load, args[0]))
        elif action == 'map' and len(args) == 2:
            self._log(self._run(operations.table_map, args[0], args[1]))
        elif action == 'set_region_mappings' and args:
            self._log(self._run(operations.table_set, list(args)))
        elif action == 'save' and len(args) in (1, 2):
            self._log(self._run(operations.table_save, *args))
        else:
            raise ExecutionError('table %s: expected summary | load FILE | map REGION PATH | '
                                 'set_region_mappings MAPPING... | save FILE [text]'
                                 % ' '.join((action,) + args))

    def ui_complete_table(self, parameters, text, current_param):
        if current_param == 'action':
            actions = ('summary', 'load', 'map', 'set_region_mappings', 'save')
            return [a for a in actions if a.startswith(text)]
        return []

    def ui_command_paths(self, action='status', path_nr=None):
        '''
        Shows or changes the health of this LUN's paths.

        paths status      state and regions of every path
        paths fail N      mark path N failed (multipath: the prober restores it when it answers)
        paths restore N   mark path N healthy
        paths disable N   take path N out until it is restored by hand
        '''
        if action == 'status' and path_nr is None:
            self._show(self._run(operations.paths_status))
        elif action in operations.PATH_ACTIONS and path_nr is not None:
            self._log(self._run(operations.paths_set, action, path_nr))
        else:
            raise ExecutionError('paths %s: expected status | fail N | restore N | disable N' % action)

    def ui_complete_paths(self, parameters, text, current_param):
        if current_param == 'action':
            return [a for a in ['status'] + sorted(operations.PATH_ACTIONS) if a.startswith(text)]
        return []

    def ui_command_stats(self):
        '''
        Shows per-path I/O counters of this LUN since it was opened.
        '''
        self._show(self._run(operations.stats))


def storage_object_node(storage_object, parent):
    '''Stands in for UIUserBackedStorageObject: the switch node for switch LUNs.'''
    if getattr(parent, 'handler', None) == SUBTYPE:
        return UISwitchStorageObject(storage_object, parent)
    return StockUserBackedStorageObject(storage_object, parent)


def install():
    ui_backstore.UIUserBackedStorageObject = storage_object_node


def load_targetcli_main():
    '''/usr/bin/targetcli is a script, not a module: load it as one (its main() is guarded).'''
    loader = importlib.machinery.SourceFileLoader('targetcli_script', TARGETCLI_SCRIPT)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module.main


def main(argv=None, out=sys.stdout):
    '''targetcli's own main(), after install(); --help and --version describe this tool.'''
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (['--help'], ['-h']):
        out.write(USAGE)
        return 0
    if argv[:1] == ['--version']:
        out.write('targetcli-switch (tcmu-switch) %s on targetcli %s\n' % (__version__, targetcli_version))
        return 0
    install()
    return load_targetcli_main()()
