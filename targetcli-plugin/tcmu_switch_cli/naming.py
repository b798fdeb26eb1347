'''
Where a switch LUN lives on D-Bus. Mirrors handler/control/device_naming.cpp:
the two must agree byte for byte (tests/test_naming.py pins the examples
that handler/control's own test pins).
'''

BUS_NAME = 'org.kernel.TCMUService1'
INTERFACE = 'org.tcmuswitch.Device1'
OBJECT_PATH_PREFIX = '/org/kernel/TCMUService1/switch'

_PLAIN = frozenset(b'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')


def escape_path_element(name):
    '''
    One object path element for any name: letters and digits stay, every
    other byte of its UTF-8 form (the '_' escape included) becomes "_xx".
    '''
    if not name:
        return '_'
    return ''.join(chr(b) if b in _PLAIN else '_%02x' % b for b in name.encode('utf-8'))


def device_object_path(name):
    return '%s/%s' % (OBJECT_PATH_PREFIX, escape_path_element(name))
