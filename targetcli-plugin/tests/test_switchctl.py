import io
import json

import pytest

from tcmu_switch_cli import switchctl
from tcmu_switch_cli.client import SwitchError, error_kind
from conftest import FakeClient


def run(argv, client=None):
    out, err = io.StringIO(), io.StringIO()
    client = client or FakeClient()
    rc = switchctl.main(argv, client_factory=lambda name: client, out=out, err=err)
    return rc, out.getvalue(), err.getvalue(), client


def test_summary_exits_0_and_prints_text():
    rc, out, err, _ = run(['lun0', 'table', 'summary'])
    assert rc == 0 and err == ''
    assert out.startswith('lun0: multipath, 2 paths')
    assert 'engine io_uring with 2 workers, shared by 3 LUNs of this tcmu-runner' in out


def test_json_output_is_the_result():
    rc, out, _, _ = run(['--json', 'lun0', 'paths', 'fail', '1'])
    assert rc == 0
    assert json.loads(out) == {'op': 'paths fail', 'device': 'lun0', 'path_nr': 1, 'state': 'failed'}


@pytest.mark.parametrize('argv', [[], ['lun0'], ['lun0', 'table'], ['lun0', 'table', 'frobnicate'],
                                  ['lun0', 'table', 'map', '1'], ['lun0', 'paths', 'fail'],
                                  ['lun0', 'table', 'map', 'x', '1']])
def test_usage_errors_exit_2_and_send_nothing(argv):
    rc, out, err, client = run(argv)
    assert rc == 2
    assert err.startswith('switchctl: ')
    assert client.sent == []


def test_usage_error_in_json_mode_is_a_json_object():
    rc, out, _, _ = run(['--json', 'lun0', 'table', 'map', 'x', '1'])
    assert rc == 2
    assert json.loads(out) == {'error': 'region "x" is not a number (decimal or 0x-prefixed hex)', 'kind': 'usage'}


def test_a_refusal_exits_1_with_the_handlers_message():
    denied = SwitchError('denied', 'SetPathState changes switch device lun0 and needs uid 0; the caller is uid 65534')
    rc, out, err, _ = run(['--json', 'lun0', 'paths', 'fail', '1'], FakeClient(fail=denied))
    assert rc == 1
    assert 'needs uid 0' in err
    assert json.loads(out)['kind'] == 'denied'


def test_set_region_mappings_alias():
    rc, _, _, client = run(['lun0', 'table', 'set_region_mappings', '0:1', ':0'])
    assert rc == 0
    assert client.sent == [('SetRegionMappings', '0:1 :0')]


def test_dbus_error_names_map_to_kinds():
    assert error_kind('org.freedesktop.DBus.Error.AccessDenied') == 'denied'
    assert error_kind('org.freedesktop.DBus.Error.InvalidArgs') == 'invalid'
    assert error_kind('org.freedesktop.DBus.Error.UnknownObject') == 'unavailable'
    assert error_kind('org.freedesktop.DBus.Error.Failed') == 'failed'


def test_the_remote_error_name_is_stripped_from_the_message():
    from tcmu_switch_cli.client import strip_remote_error_name
    name = 'org.freedesktop.DBus.Error.InvalidArgs'
    assert strip_remote_error_name('GDBus.Error:%s: SetPathState: path 3 >= nr_paths 3' % name,
                                   name) == 'SetPathState: path 3 >= nr_paths 3'
    assert strip_remote_error_name('Timeout was reached', None) == 'Timeout was reached'


def test_version_is_the_packages(capsys):
    from tcmu_switch_cli import __version__
    with pytest.raises(SystemExit) as exit_:
        switchctl.main(['--version'])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == 'switchctl (tcmu-switch) %s\n' % __version__
