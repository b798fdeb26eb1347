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
