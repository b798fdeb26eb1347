import io

import pytest

targetcli_ui = pytest.importorskip('tcmu_switch_cli.targetcli_ui', reason='needs Debian targetcli-fb')


class Parent(object):
    def __init__(self, handler):
        self.handler = handler


def test_only_switch_backstores_get_the_switch_node(monkeypatch):
    made = []
    monkeypatch.setattr(targetcli_ui, 'UISwitchStorageObject', lambda so, parent: made.append(('switch', so)))
    monkeypatch.setattr(targetcli_ui, 'StockUserBackedStorageObject', lambda so, parent: made.append(('stock', so)))
    targetcli_ui.storage_object_node('a', Parent('switch'))
    targetcli_ui.storage_object_node('b', Parent('qcow'))
    assert made == [('switch', 'a'), ('stock', 'b')]


def test_install_rebinds_the_name_targetcli_builds_user_nodes_with(monkeypatch):
    from targetcli import ui_backstore
    monkeypatch.setattr(ui_backstore, 'UIUserBackedStorageObject', ui_backstore.UIUserBackedStorageObject)
    targetcli_ui.install()
    assert ui_backstore.UIUserBackedStorageObject is targetcli_ui.storage_object_node


def test_switch_nodes_have_the_three_commands():
    for command in ('ui_command_table', 'ui_command_paths', 'ui_command_stats'):
        assert callable(getattr(targetcli_ui.UISwitchStorageObject, command))


class Recorder(object):
    def __init__(self):
        self.lines = []

    def display(self, text):
        self.lines.append(text)

    def info(self, text):
        self.lines.append(text)


class Shell(object):
    def __init__(self):
        self.con = self.log = Recorder()


class StorageObject(object):
    name = 'lun0'


def switch_node(monkeypatch, client):
    '''A UISwitchStorageObject without targetcli's tree around it (rtslib needs configfs).'''
    monkeypatch.setattr(targetcli_ui, 'DeviceClient', lambda name: client)
    node = targetcli_ui.UISwitchStorageObject.__new__(targetcli_ui.UISwitchStorageObject)
    node.rtsnode = StorageObject()
    monkeypatch.setattr(targetcli_ui.UISwitchStorageObject, 'shell', Shell(), raising=False)
    return node


def test_table_map_sends_hex_and_logs_the_generation(monkeypatch, client):
    node = switch_node(monkeypatch, client)
    node.ui_command_table('map', '5', '2')
    assert client.sent == [('SetRegionMappings', '5:2')]
    assert node.shell.log.lines == ['lun0: mappings "5:2" applied: generation 4']


def test_wrong_arguments_name_the_command_forms(monkeypatch, client):
    from configshell_fb import ExecutionError
    node = switch_node(monkeypatch, client)
    with pytest.raises(ExecutionError, match='table map 5: expected summary'):
        node.ui_command_table('map', '5')
    assert client.sent == []


def test_handler_refusals_become_execution_errors_naming_the_lun(monkeypatch):
    from configshell_fb import ExecutionError
    from conftest import FakeClient
    from tcmu_switch_cli.client import SwitchError
    node = switch_node(monkeypatch, FakeClient(fail=SwitchError('invalid', 'path 9 >= nr_paths 2')))
    with pytest.raises(ExecutionError, match='lun0: path 9 >= nr_paths 2'):
        node.ui_command_paths('fail', '9')


def test_help_describes_targetcli_switch_and_starts_nothing(monkeypatch):
    monkeypatch.setattr(targetcli_ui, 'load_targetcli_main', lambda: pytest.fail('targetcli started'))
    out = io.StringIO()
    assert targetcli_ui.main(['--help'], out=out) == 0
    assert out.getvalue().startswith('usage: targetcli-switch ')
    assert 'table, paths and stats' in out.getvalue()


def test_version_names_both_versions(monkeypatch):
    from tcmu_switch_cli import __version__
    monkeypatch.setattr(targetcli_ui, 'load_targetcli_main', lambda: pytest.fail('targetcli started'))
    out = io.StringIO()
    assert targetcli_ui.main(['--version'], out=out) == 0
    assert out.getvalue() == 'targetcli-switch (tcmu-switch) %s on targetcli %s\n' % (
        __version__, targetcli_ui.targetcli_version)
