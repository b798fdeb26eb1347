#!/usr/bin/env bash
# The demo, guest side (run by tests/vm/demo): the shipped 3-path user:switch
# LUN (config/demo/lun0.conf) created with targetcli, exported over iSCSI on
# 127.0.0.1, logged in with open-iscsi; fio runs config/fio/demo.fio on it and
# the table (IOPS, MB/s, I/Os per path) goes to $VMTEST_RESULTS/demo-table.txt.
. "$(dirname "$0")/lib.sh"

conf=$VMTEST_TOP/config/demo/lun0.conf
size=$((256 * 1024 * 1024))
iqn=iqn.2003-01.org.tcmu-switch.vm:demo
# lun0.conf's paths: device-mapper maps of three brd RAM disks, because
# device-mapper counts each path's I/Os and brd does not.
paths=(demo-path0 demo-path1 demo-path2)

# stat_snapshot FILE: each path's /sys/block/<dev>/stat line (I/Os and sectors).
stat_snapshot() {
  local p blk
  for p in "${paths[@]}"; do
    blk=$(dmsetup info -c --noheadings -o blkdevname "$p")
    echo -n "$p "
    cat "/sys/block/$blk/stat"
  done > "$1"
}

require_switch_handler
target_up
load_modules iscsi_target_mod iscsi_tcp
ram_disks 3 $((size / 1024))
for i in 0 1 2; do dm_path "${paths[i]}" "/dev/ram$i" > /dev/null; done
start_dbus
start_runner
must "targetcli: user:switch lun0 exported on 127.0.0.1:3260" \
  switch_iscsi_export lun0 "$size" "$conf" "$iqn" 127.0.0.1
start_iscsid
dev=$(iscsi_login "$iqn" 127.0.0.1)
pass "open-iscsi logged in: $dev"

stat_snapshot "$WORK/stat.before"
must "fio config/fio/demo.fio" env DEMO_DEV="$dev" fio --output-format=json --eta=never \
  --output="$VMTEST_RESULTS/fio-demo.json" "$VMTEST_TOP/config/fio/demo.fio"
stat_snapshot "$WORK/stat.after"
python3 "$here_lib/demo-table.py" "$VMTEST_RESULTS/fio-demo.json" "$WORK/stat.before" \
  "$WORK/stat.after" | tee "$VMTEST_RESULTS/demo-table.txt"

must "open-iscsi logged out" iscsi_logout "$iqn" 127.0.0.1
must "targetcli: target and backstore deleted" switch_iscsi_delete lun0 "$iqn"
check "tcmu-runner exits 0 on SIGTERM" stop_runner
