#!/usr/bin/env bash
# mini-cluster.sh start|stop|status DIR: a one-node Ceph cluster on 127.0.0.1
# from Debian's packages (ceph-mon, ceph-osd, ceph-common; scripts/setup.sh
# installs them): one monitor, one memstore OSD, no manager, no cephadm, no
# containers, no authentication, nothing outside DIR. `start` also makes two
# pools, "ssd" and "hdd", with one image each ("ssd/lun0", "hdd/lun0", of
# MINI_CEPH_IMAGE_MB, default 64 MiB) and writes DIR/ceph.conf for clients.
#   tests/ceph/mini-cluster.sh start /var/tmp/ceph && rbd -c /var/tmp/ceph/ceph.conf ls ssd
#   tests/ceph/mini-cluster.sh stop /var/tmp/ceph      # stops the daemons, removes DIR
# MINI_CEPH_PORT (default 6799) is the monitor's port, away from a real
# cluster's 6789. The OSD keeps its objects in memory only: a stopped cluster
# is gone.
set -euo pipefail

cmd=${1:?usage: mini-cluster.sh start|stop|status DIR}
dir=${2:?usage: mini-cluster.sh start|stop|status DIR}
port=${MINI_CEPH_PORT:-6799}
image_mb=${MINI_CEPH_IMAGE_MB:-64}
conf=$dir/ceph.conf
pools=(ssd hdd)

log() { printf 'mini-cluster: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
# ceph 16.2.15 clients now and then send a command before they have the
# monitor map, with a zero fsid, and the monitor refuses it (EPERM, "wrong
# fsid" in its log). The commands used here are idempotent: try again.
ceph_() {
  local try
  for try in 1 2 3 4; do
    timeout 60 ceph -c "$conf" "$@" && return 0
    log "ceph $* failed (try $try of 4)"
    sleep 1
  done
  return 1
}

write_conf() {
  cat > "$conf" <<CONF
[global]
fsid = $(uuidgen)
mon host = v1:127.0.0.1:$port
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.pid
osd pool default size = 1
osd pool default min size = 1
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
ms bind msgr2 = false
[client]
# Clients (the handler's rbd: paths among them) give up on an OSD that does
# not answer after 5 s: tests stop one and expect errors, not a hang.
rados osd op timeout = 5
rados mon op timeout = 5
[mon]
mon data = $dir/mon.\$id
[osd]
osd data = $dir/osd.\$id
osd objectstore = memstore
memstore device bytes = $((2 * ${#pools[@]} * image_mb * 1048576 + 268435456))
osd max object name len = 256
osd max object namespace len = 64
# At start an OSD asks the monitor to place it in the CRUSH map; ceph-osd
# 16.2.15 sometimes sends that before it has the monitor map, with a zero
# fsid, which the monitor refuses ("wrong fsid") and the OSD exits. start()
# places it itself.
osd crush update on start = false
osd class update on start = false
CONF
}

wait_until() {
  local what=$1 secs=$2
  shift 2
  for ((i = 0; i < secs * 5; i++)); do
    "$@" > /dev/null 2>&1 && return 0
    sleep 0.2
  done
  die "timed out after $secs s waiting for $what"
}

osd_up() { ceph_ osd dump | grep '^osd.0 up' > /dev/null; }
pgs_active() { ! ceph_ pg stat | grep -E 'creating|peering|unknown|inactive|activating' > /dev/null; }

start() {
  [ ! -e "$dir/ceph.conf" ] || die "$dir holds a cluster already (stop it first)"
  # A cluster left running on the port would answer our clients in its place.
  ! ss -Hltn "sport = :$port" | grep -q . || die "127.0.0.1:$port is taken (another cluster? MINI_CEPH_PORT)"
  mkdir -p "$dir/run" "$dir/log" "$dir/mon.a" "$dir/osd.0"
  write_conf
  local fsid
  fsid=$(sed -n 's/^fsid = //p' "$conf")
  ceph-authtool --create-keyring "$dir/mon.keyring" --gen-key -n mon. --cap mon 'allow *' > /dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v1:127.0.0.1:$port]" "$dir/monmap" > /dev/null
  ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/mon.keyring"
  ceph-mon -c "$conf" -i a
  wait_until "the monitor" 60 ceph_ mon stat
  local uuid
  uuid=$(uuidgen)
  ceph_ osd new "$uuid" > /dev/null
  ceph_ osd crush add osd.0 1.0 root=default host=localhost > /dev/null
  ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$uuid" 2> "$dir/log/osd-mkfs.log" ||
    die "ceph-osd --mkfs failed: $(tail -3 "$dir/log/osd-mkfs.log")"
  ceph-osd -c "$conf" -i 0
  wait_until "osd.0 up" 120 osd_up
  for pool in "${pools[@]}"; do
    ceph_ osd pool create "$pool" 8 8 > /dev/null
    ceph_ osd pool application enable "$pool" rbd > /dev/null
  done
  wait_until "placement groups active" 120 pgs_active
  for pool in "${pools[@]}"; do timeout 60 rbd -c "$conf" create --size "${image_mb}M" "$pool/lun0"; done
  log "up: $conf (mon 127.0.0.1:$port, osd.0 pid $(cat "$dir/run/osd.0.pid"), pools ${pools[*]}," \
    "images ssd/lun0 hdd/lun0 of $image_mb MiB)"
}

stop_daemon() {
  local pidfile=$dir/run/$1.pid pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  kill -CONT "$pid" 2> /dev/null || true  # a test may have stopped it
  kill -TERM "$pid" 2> /dev/null || return 0
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2> /dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2> /dev/null || true
}

stop() {
  [ -f "$conf" ] || { log "no cluster in $dir"; return 0; }
  stop_daemon osd.0
  stop_daemon mon.a
  rm -rf "$dir"
  log "stopped and removed $dir"
}

case $cmd in
  start) start ;;
  stop) stop ;;
  status) ceph_ -s ;;
  *) die "unknown command $cmd (start, stop or status)" ;;
esac
