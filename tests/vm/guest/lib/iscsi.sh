# Guest helpers: iSCSI: the open-iscsi initiator, user:switch exported by targetcli (the user's own path), and raw-configfs targets. Sourced by lib.sh (scenarios source lib.sh only);
# uses the reporting helpers of report.sh.

# ---- iSCSI initiator (open-iscsi) -------------------------------------------

start_iscsid() {
  mkdir -p /run/lock/iscsi /var/lib/iscsi
  iscsid
}

# iscsi_login IQN ADDRESS [IFACE]: discovery + login; prints the /dev/sdX.
# IFACE is open-iscsi's transport interface: default (TCP) or iser.
iscsi_login() {
  local iqn=$1 addr=$2 iface=${3:-default} disk
  iscsiadm -m discovery -t sendtargets -p "$addr" -I "$iface" > /dev/null
  iscsiadm -m node -T "$iqn" -p "$addr" -I "$iface" --login > /dev/null
  wait_for "the iSCSI disk of $iqn" 30 iscsi_disk_of "$iqn" > /dev/null ||
    die "$VMTEST_NAME" "logged in to $iqn but no disk appeared"
  echo "/dev/$(iscsi_disk_of "$iqn")"
}

iscsi_disk_of() {
  iscsiadm -m session -P 3 2> /dev/null |
    awk -v iqn="$1" '$1 == "Target:" { t = $2 } t == iqn && /Attached scsi disk/ { print $4; f = 1 } END { exit !f }'
}

iscsi_logout() {
  iscsiadm -m node -T "$1" -p "$2" --logout > /dev/null
  iscsiadm -m node -T "$1" -p "$2" -o delete
}

# ---- user:switch over iSCSI: the user's own path (targetcli, open-iscsi) ---

# switch_iscsi_export NAME SIZE CONF IQN ADDR [iser]: targetcli creates
# user:switch NAME from the device config CONF and exports it as LUN 0 of IQN
# on ADDR:3260 only (no 0.0.0.0 default portal), with iSER on that portal too
# if asked; any initiator may log in, without CHAP.
switch_iscsi_export() {
  local name=$1 size=$2 conf=$3 iqn=$4 addr=$5 iser=${6:-}
  local tpg=/iscsi/$iqn/tpg1
  targetcli_batch \
    "set global auto_add_default_portal=false" \
    "/backstores/user:switch create name=$name size=$size cfgstring=$conf" \
    "/iscsi create $iqn" \
    "$tpg/luns create /backstores/user:switch/$name" \
    "$tpg/portals create $addr 3260" \
    ${iser:+"$tpg/portals/$addr:3260 enable_iser boolean=true"} \
    "$tpg set attribute authentication=0 demo_mode_write_protect=0 generate_node_acls=1 cache_dynamic_acls=1"
}

switch_iscsi_delete() {
  targetcli_batch "/iscsi delete $2" "/backstores/user:switch delete $1"
}

no_backstore_named() { ! ls -d "$TARGET"/core/*/"$1" > /dev/null 2>&1; }

# iscsi_transport_is IQN TRANSPORT: the session to IQN runs over TRANSPORT
# (tcp, iser), as `iscsiadm -m session` prints it.
iscsi_transport_is() { iscsiadm -m session | grep -E "^$2: .* $1( |$)" > /dev/null; }

# switch_over_iscsi TRANSPORT ADDR: scenarios iscsi and iser. A 3-path
# placement LUN over brd with a region of 200 sectors (not a power of two),
# created and exported by targetcli, logged in with open-iscsi over TRANSPORT
# (tcp or iser), filled and verified by fio, checked backend by backend
# against the table, then logged out and deleted with targetcli.
switch_over_iscsi() {
  local transport=$1 addr=$2 iface=default region_sectors=200 regions=480 size conf dev
  local iqn=iqn.2003-01.org.tcmu-switch.vm:$VMTEST_NAME paths=(/dev/ram0 /dev/ram1 /dev/ram2)
  [ "$transport" = tcp ] || iface=$transport
  size=$((regions * region_sectors * 512))   # a multiple of fio_fill's 96 KiB
  ram_disks 3 $((size / 1024))
  conf=$(placement_setup "$WORK/$VMTEST_NAME" "$region_sectors" "$regions" "${paths[@]}")

  must "targetcli: user:switch created, exported on $addr:3260 ($transport)" \
    switch_iscsi_export lun0 "$size" "$conf" "$iqn" "$addr" "${iface#default}"
  start_iscsid
  dev=$(iscsi_login "$iqn" "$addr" "$iface")
  pass "open-iscsi logged in to $addr: $dev"
  check "the session runs over $transport" iscsi_transport_is "$iqn" "$transport"
  check "fio over $transport: sequential fill + verify" fio_fill "$transport-fill" "$dev"
  check "fio over $transport: random write + verify" fio_verify "$transport-random" "$dev" 4
  check "every region on the path the table names" \
    placement_check "$dev" "$region_sectors" "$regions" "${paths[@]}"
  must "open-iscsi logged out" iscsi_logout "$iqn" "$addr"
  must "targetcli: target and backstore deleted" switch_iscsi_delete lun0 "$iqn"
  check "backstore gone from configfs" no_backstore_named lun0
}

# iscsi_export_raw IQN ADDR BACKSTORE_DIR...: an iSCSI target made by raw
# configfs, as libiscsi's own CI does (ci/lio_setup.sh): TPG 1 on ADDR:3260
# with the backstores as LUN 0, 1, ...; any initiator may log in (generated
# ACLs), without CHAP, and write.
iscsi_export_raw() {
  local iqn=$1 addr=$2 tpg i=0 bs
  shift 2
  load_modules iscsi_target_mod
  tpg=$TARGET/iscsi/$iqn/tpgt_1
  mkdir -p "$tpg"
  for bs in "$@"; do
    mkdir -p "$tpg/lun/lun_$i"
    ln -s "$bs" "$tpg/lun/lun_$i/$(basename "$bs")"
    i=$((i + 1))
  done
  echo 0 > "$tpg/attrib/authentication"
  echo 1 > "$tpg/attrib/generate_node_acls"
  echo 1 > "$tpg/attrib/cache_dynamic_acls"
  echo 0 > "$tpg/attrib/demo_mode_write_protect"
  mkdir "$tpg/np/$addr:3260"
  echo 1 > "$tpg/enable"
}

iscsi_unexport_raw() {
  local tpg=$TARGET/iscsi/$1/tpgt_1 lun
  echo 0 > "$tpg/enable"
  rmdir "$tpg"/np/*
  for lun in "$tpg"/lun/lun_*; do
    find "$lun" -maxdepth 1 -type l -delete   # the backstore link; the rest is configfs's
    rmdir "$lun"
  done
  rmdir "$tpg" "$TARGET/iscsi/$1"
}
