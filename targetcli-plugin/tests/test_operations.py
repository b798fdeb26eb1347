import os

import pytest

from tcmu_switch_cli import operations
from tcmu_switch_cli.operations import UsageError


def test_numbers_are_decimal_or_0x_hex():
    assert operations.parse_number('16', 'region') == 16
    assert operations.parse_number('0x10', 'region') == 16
    assert operations.parse_number('0X1f', 'path') == 31


@pytest.mark.parametrize('text', ['ten', '1.5', '', '0xg', '10k'])
def test_a_bad_number_names_what_and_the_text(text):
    with pytest.raises(UsageError) as e:
        operations.parse_number(text, 'region')
    assert str(e.value).startswith('region "%s"' % text)


def test_negative_numbers_are_refused():
    with pytest.raises(UsageError, match='path "-1" is negative'):
        operations.parse_number('-1', 'path')


def test_a_mapping_is_dm_switch_hex():
    assert operations.mapping_text(255, 10) == 'ff:a'


def test_map_sends_one_hex_entry_and_reports_the_generation(client):
    result = operations.table_map(client, '0x10', '1')
    assert client.sent == [('SetRegionMappings', '10:1')]
    assert result['generation'] == 4
    assert operations.render(result) == ['lun0: mappings "10:1" applied: generation 4']


def test_map_with_a_bad_region_sends_nothing(client):
    with pytest.raises(UsageError):
        operations.table_map(client, 'x', '1')
    assert client.sent == []


def test_set_joins_the_arguments_into_one_message(client):
    operations.table_set(client, ['0:1', 'R1,ff'])
    assert client.sent == [('SetRegionMappings', '0:1 R1,ff')]


def test_set_without_mappings_is_a_usage_error(client):
    with pytest.raises(UsageError, match='at least one mapping'):
        operations.table_set(client, [])


def test_load_sends_the_file_bytes_unparsed(client, tmp_path):
    f = tmp_path / 't.table'
    f.write_bytes(b'0:1 :0\n')
    result = operations.table_load(client, str(f))
    assert client.sent == [('LoadTable', b'0:1 :0\n')]
    assert result['file'] == str(f)


def test_load_of_a_missing_file_names_it(client, tmp_path):
    missing = str(tmp_path / 'nope')
    with pytest.raises(UsageError, match='cannot read table file %s' % missing):
        operations.table_load(client, missing)


@pytest.mark.parametrize('fmt,content', [('binary', b'SWTB\x00binary'), ('text', b'0:0 :1\n')])
def test_save_writes_what_the_handler_returned(client, tmp_path, fmt, content):
    f = tmp_path / 'saved'
    f.write_bytes(b'old')
    result = operations.table_save(client, str(f), fmt)
    assert f.read_bytes() == content
    assert result['bytes'] == len(content)
    assert os.listdir(str(tmp_path)) == ['saved']  # no temporary file left behind


def test_save_in_an_unknown_format_is_refused(client, tmp_path):
    with pytest.raises(UsageError, match='table format "csv"'):
        operations.table_save(client, str(tmp_path / 'x'), 'csv')


@pytest.mark.parametrize('action,state', [('fail', 'failed'), ('restore', 'healthy'), ('disable', 'disabled')])
def test_path_actions_ask_for_their_state(client, action, state):
    result = operations.paths_set(client, action, '1')
    assert client.sent == [('SetPathState', 1, state)]
    assert operations.render(result) == ['lun0: path 1 is %s' % state]


def test_an_unknown_path_action_is_a_usage_error(client):
    with pytest.raises(UsageError, match='path action "break"'):
        operations.paths_set(client, 'break', '1')


def test_summary_names_geometry_and_lists_paths(client):
    lines = operations.render(operations.table_summary(client))
    assert lines[0] == ('lun0: multipath, 2 paths, 4096 regions of 128 sectors (64 KiB), default round-robin, '
                        'generation 3')
    assert lines[4].split() == ['path', 'name', 'device', 'state', 'regions']
    assert lines[6].split() == ['1', 'ram1', '/dev/ram1', 'healthy', '2048']


def test_stats_has_a_column_per_counter(client):
    lines = operations.render(operations.stats(client))
    assert lines[0].split() == ['path', 'name', 'state'] + client.summary()['path_counters']
    assert lines[2].split()[:5] == ['1', 'ram1', 'healthy', '10', '20']
    assert lines[-1] == 'generation 3, 0 commands refused busy'
    assert lines[-2] == ('commands: 7 zero-copy, 5 zero-copy no-GUP, 3 copied; pieces: 6 no-GUP through the page '
                         'cache, 0 zero-copy refused by O_DIRECT, 0 failed for their buffer')


def test_human_bytes():
    assert operations.human_bytes(512) == '512 B'
    assert operations.human_bytes(65536) == '64 KiB'
    assert operations.human_bytes(1536) == '1.5 KiB'
    assert operations.human_bytes(256 << 20) == '256 MiB'


def test_columns_align_on_the_widest_cell():
    assert operations.columns(('a', 'bb'), [(100, 2)]) == ['a    bb', '100  2']
