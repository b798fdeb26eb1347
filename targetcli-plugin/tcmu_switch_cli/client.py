'''
DeviceClient: calls on one switch LUN's D-Bus object (interface
org.tcmuswitch.Device1, see handler/control/device_object.cpp), with D-Bus
errors turned into SwitchError whose message is the handler's own.
'''

from .naming import BUS_NAME, INTERFACE, device_object_path

# Large tables take a while to encode under emulation; a stuck runner should
# still not hang a script forever.
CALL_TIMEOUT_MS = 60000


class SwitchError(Exception):
    '''
    A refused or failed operation. kind is one of
      'denied'       the caller may not change the device (not root)
      'invalid'      the handler refused the input; nothing changed
      'unavailable'  no bus, no tcmu-runner, or no such switch LUN
      'failed'       anything else the handler or the bus reported
    '''

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


_KIND_OF_DBUS_ERROR = {
    'org.freedesktop.DBus.Error.AccessDenied': 'denied',
    'org.freedesktop.DBus.Error.InvalidArgs': 'invalid',
    'org.freedesktop.DBus.Error.ServiceUnknown': 'unavailable',
    'org.freedesktop.DBus.Error.NameHasNoOwner': 'unavailable',
    'org.freedesktop.DBus.Error.UnknownObject': 'unavailable',
    'org.freedesktop.DBus.Error.UnknownMethod': 'unavailable',
}


def error_kind(dbus_error_name):
    return _KIND_OF_DBUS_ERROR.get(dbus_error_name, 'failed')


def strip_remote_error_name(message, remote_name):
    '''
    The handler's own text of a D-Bus error: GLib prefixes it with
    "GDBus.Error:<name>: ", and Gio.DBusError.strip_remote_error() cannot
    help (PyGObject hands it a copy of the error).
    '''
    prefix = 'GDBus.Error:%s: ' % remote_name
    return message[len(prefix):] if remote_name and message.startswith(prefix) else message


def _bytes_of(reply):
    '''The bytes of a reply's single "ay", without a Python int per byte.'''
    return reply.get_child_value(0).get_data_as_bytes().get_data()


class DeviceClient(object):
    '''
    One switch LUN, by its configfs name (the targetcli storage object name).
    '''

    def __init__(self, name, bus=None):
        from gi.repository import Gio, GLib  # python3-gi; imported here so formatting needs no bus
        self._Gio, self._GLib = Gio, GLib
        self.name = name
        self.object_path = device_object_path(name)
        if bus is None:
            try:
                bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
            except GLib.Error as e:
                raise SwitchError('unavailable', 'no system bus: %s' % e.message)
        self._bus = bus

    def _call(self, method, args_type, args, reply_type):
        GLib, Gio = self._GLib, self._Gio
        params = GLib.Variant(args_type, args) if args_type else None
        try:
            reply = self._bus.call_sync(BUS_NAME, self.object_path, INTERFACE, method, params,
                                        GLib.VariantType.new(reply_type), Gio.DBusCallFlags.NONE,
                                        CALL_TIMEOUT_MS, None)
        except GLib.Error as e:
            remote = Gio.DBusError.get_remote_error(e)
            message = strip_remote_error_name(e.message, remote)
            kind = error_kind(remote)
            if kind == 'unavailable':
                raise SwitchError(kind, 'switch LUN %s is not on D-Bus at %s (%s): is tcmu-runner running '
                                  'with handler_switch.so and the LUN enabled?' % (self.name, self.object_path,
                                                                                 message))
            raise SwitchError(kind, message)
        return reply

    def load_table(self, table_bytes):
        '''Publishes a whole table (binary or dm-switch text); returns the generation.'''
        return self._call('LoadTable', '(ay)', (table_bytes,), '(t)').unpack()[0]

    def set_region_mappings(self, text):
        '''Applies dm-switch set_region_mappings text to the live table; returns the generation.'''
        return self._call('SetRegionMappings', '(s)', (text,), '(t)').unpack()[0]

    def get_table(self):
        return _bytes_of(self._call('GetTable', None, None, '(ay)'))

    def get_table_text(self, expand=False):
        return self._call('GetTableText', '(b)', (expand,), '(s)').unpack()[0]

    def get_regions(self, first_region, nr_regions):
        '''The path of each region in [first_region, first_region + nr_regions), as bytes.'''
        return _bytes_of(self._call('GetRegions', '(tt)', (first_region, nr_regions), '(ay)'))

    def region_io(self):
        '''(bucket_shift, ios): ios[b] counts I/O pieces for regions [b << shift, (b + 1) << shift).'''
        return self._call('GetRegionIo', None, None, '(uat)').unpack()

    def summary(self):
        return self._call('GetSummary', None, None, '(a{sv})').unpack()[0]

    def path_state(self, path_nr):
        return self._call('GetPathState', '(u)', (path_nr,), '(s)').unpack()[0]

    def set_path_state(self, path_nr, state):
        self._call('SetPathState', '(us)', (path_nr, state), '()')
