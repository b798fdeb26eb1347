import pytest


class FakeClient(object):
    '''Stands in for DeviceClient: answers from a summary, records changes, or raises `fail`.'''

    def __init__(self, name='lun0', fail=None):
        self.name = name
        self.fail = fail
        self.sent = []
        self.states = {0: 'healthy', 1: 'healthy'}
        self.generation = 3

    def _maybe_fail(self):
        if self.fail is not None:
            raise self.fail

    def summary(self):
        self._maybe_fail()
        return {
            'name': self.name, 'config': '/etc/tcmu-switch/lun0.conf', 'table_file': '/etc/tcmu-switch/lun0.table',
            'mode': 'multipath', 'engine': 'io_uring', 'nr_workers': 2, 'engine_luns': 3, 'size_bytes': 256 << 20,
            'generation': self.generation, 'nr_paths': 2, 'region_sectors': 128, 'nr_regions': 4096,
            'default': 'round-robin', 'busy': 0, 'buffer_faults': 0, 'zc_mapped': 7, 'zc_mapped_nogup': 5,
            'zc_copied': 3, 'zc_page_cache_pieces': 6, 'zc_direct_refused': 0,
            'path_counters': ['reads', 'writes', 'flushes', 'unmaps', 'bytes_read', 'bytes_written', 'errors',
                              'failovers', 'bounced'],
            'paths': [dict(path_nr=i, name='ram%d' % i, device='/dev/ram%d' % i, offset_bytes=0,
                           state=self.states[i], direct=True, regions=2048, reads=10 * i, writes=20 * i,
                           flushes=1, unmaps=0, bytes_read=4096 * i, bytes_written=8192 * i, errors=0,
                           failovers=0, bounced=0) for i in range(2)],
        }

    def set_region_mappings(self, text):
        self._maybe_fail()
        self.sent.append(('SetRegionMappings', text))
        self.generation += 1
        return self.generation

    def load_table(self, data):
        self._maybe_fail()
        self.sent.append(('LoadTable', data))
        self.generation += 1
        return self.generation

    def get_table(self):
        return b'SWTB\x00binary'

    def get_table_text(self, expand=False):
        return '0:0 :1\n'

    def set_path_state(self, path_nr, state):
        self._maybe_fail()
        self.sent.append(('SetPathState', path_nr, state))
        self.states[path_nr] = state

    def path_state(self, path_nr):
        return self.states[path_nr]


@pytest.fixture
def client():
    return FakeClient()
