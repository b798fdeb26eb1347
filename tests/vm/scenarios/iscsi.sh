#!/usr/bin/env bash
# iscsi: the user's path end to end. targetcli creates a 3-path user:switch
# LUN from a device config and exports it on an iSCSI target at 127.0.0.1;
# open-iscsi logs in over loopback TCP; fio verifies through it; every
# backend is checked against the table; logout and delete.
. "$(dirname "$0")/lib.sh"

require_switch_handler
target_up
load_modules iscsi_target_mod iscsi_tcp
start_dbus
start_runner
switch_over_iscsi tcp 127.0.0.1
check "tcmu-runner exits 0 on SIGTERM" stop_runner
