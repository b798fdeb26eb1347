'''
tcmu-switch's command-line side: switchctl and targetcli-switch.

Both reach handler_switch.so only through its D-Bus objects (client.py) and
find LUNs through rtslib-fb; neither parses a region table: the handler
formats, summarises and validates, these modules only move bytes and text.
'''

__version__ = '0.1.0'  # CMake checks it against project(VERSION)
