# Guest helpers for the late_writes scenario (issue #20): commands the
# initiator was told failed must never change data afterwards. Sourced after
# lib.sh (PASS/FAIL, brd, dm paths, configfs backstores, tcm_loop).

# timed_backstore NAME CFGSTRING SIZE TIMEOUT_S: like user_backstore, with
# the LUN's cmd_time_out set before enable (the kernel takes it only while
# the LUN is not exported, and the handler reads it at open).
timed_backstore() {
  local dir=$TARGET/core/user_1/$1
  mkdir -p "$dir"
  echo -n "dev_config=$2" > "$dir/control"
  echo -n "dev_size=$3" > "$dir/control"
  echo -n "hw_max_sectors=1024" > "$dir/control"
  echo "$4" > "$dir/attrib/cmd_time_out"
  echo 1 > "$dir/enable" || die "$VMTEST_NAME" "enabling user backstore $1 ($2) failed: see tcmu-runner.log"
  echo "$dir"
}

# one_path_table FILE REGIONS PATH: every region on PATH.
one_path_table() { printf '0:%x R1,%x\n' "$3" $(($2 - 1)) > "$1"; }

# block_file FILE LABEL: 64 KiB of 16-byte lines "LABEL<line nr>" (no
# endless producer: a pipe cut short fails under pipefail).
block_file() {
  awk -v l="$2" 'BEGIN { for (k = 0; k < 4096; k++) printf "%-10.10s%05d\n", l, k }' > "$1"
}

# marker_file N: 64 KiB naming marker N.
marker_file() {
  local f=$WORK/marker$1
  [ -f "$f" ] || block_file "$f" "marker $1"
  echo "$f"
}

# write_at DEV FILE OFFSET_BYTES: one O_DIRECT write, acknowledged or not.
write_at() { dd if="$2" of="$1" bs=64k seek=$(($3 >> 16)) count=1 oflag=direct conv=notrunc status=none; }

# holds_at DEV FILE OFFSET_BYTES: the LUN holds FILE's 64 KiB at OFFSET.
holds_at() {
  dd if="$1" bs=64k skip=$(($3 >> 16)) count=1 iflag=direct status=none | cmp -s - "$2"
}

# dm_activity NAME...: sectors written so far and I/Os in flight over the dm
# maps (fields 7 and 9 of /sys/block/dm-N/stat), as one number that changes
# whenever either does.
dm_activity() {
  local name sum=0 node
  for name in "$@"; do
    node=$(dm info -c --noheadings -o blkdevname "$name" | tr -d ' ')
    sum=$((sum + $(awk '{ print $7 * 1000 + $9 }' "/sys/block/$node/stat")))
  done
  echo "$sum"
}

# dm_slow NAME DEV MS: the path now reaches DEV through dm-delay, every I/O
# MS ms late: a zero-fill then takes seconds, whatever the emulator's speed.
dm_slow() { dm_swap "$1" "0 $(blockdev --getsz "$2") delay $2 0 $3"; }

# wait_paths_idle SECONDS NAME...: until the maps have written nothing and held
# nothing in flight for 3 s (the handler's left-over work is done), at most
# SECONDS; prints how long it waited.
wait_paths_idle() {
  local secs=$1 start now last quiet_since
  shift
  start=$(date +%s)
  last=$(dm_activity "$@")
  quiet_since=$start
  while now=$(date +%s); [ $((now - start)) -lt "$secs" ]; do
    sleep 1
    local a
    a=$(dm_activity "$@")
    if [ "$a" != "$last" ]; then last=$a; quiet_since=$(date +%s); fi
    [ $(($(date +%s) - quiet_since)) -lt 3 ] || break
  done
  echo $(($(date +%s) - start))
}

# unmap_all DEV BLOCKS: UNMAPs of [0, BLOCKS), each as large as the LUN's
# Block Limits page allows (largest count per descriptor, most descriptors).
unmap_all() {
  local dev=$1 blocks=$2 max_lbas max_desc lba=0 n d lbas nums
  max_lbas=$(sg_vpd -p bl "$dev" | awk -F: '/Maximum unmap LBA count/ { gsub(/ /, "", $2); print $2 }')
  max_desc=$(sg_vpd -p bl "$dev" | awk -F: '/Maximum unmap block descriptor count/ { gsub(/ /, "", $2); print $2 }')
  log "Block Limits: $max_lbas blocks per UNMAP descriptor, $max_desc descriptors"
  while [ "$lba" -lt "$blocks" ]; do
    lbas="" nums=""
    for ((d = 0; d < max_desc && lba < blocks; d++)); do
      n=$((blocks - lba < max_lbas ? blocks - lba : max_lbas))
      lbas+="${lbas:+,}$lba" nums+="${nums:+,}$n"
      lba=$((lba + n))
    done
    sg_unmap --force --lba="$lbas" --num="$nums" "$dev" || return
  done
}

# set_timeout BACKSTORE_DIR SECONDS: unexports the LUN (the kernel takes
# cmd_time_out only then), sets it, waits out the handler's once-a-second
# reread and exports it again; prints the new /dev/sdX.
set_timeout() {
  remove_loop_lun "$1"
  echo "$2" > "$1/attrib/cmd_time_out"
  sleep 1.2
  loop_lun "$1"
}

# write_same_then_markers DEV BYTES DIR: one process sends a WRITE SAME with
# UNMAP of the whole LUN (zeroes) and, the moment it returns, writes marker
# i (marker_file) over the last 64 KiB of each sixteenth of the LUN, where a
# zero-fill running from the start arrives last. The acknowledged markers'
# numbers go to $WORK/acked. Success: the WRITE SAME failed (timed out) and at
# least one marker was acknowledged.
write_same_then_markers() {
  local i
  for i in $(seq 0 15); do marker_file "$i" > /dev/null; done
  python3 - "$1" "$2" "$WORK" << 'PYEOF'
import mmap, os, subprocess, sys, time
dev, size, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
bufs = []
for i in range(16):
    m = mmap.mmap(-1, 65536)  # page-aligned, as O_DIRECT wants
    with open("%s/marker%d" % (work, i), "rb") as f:
        m.write(f.read())
    bufs.append(m)
t0 = time.monotonic()
ws = subprocess.run(["sg_write_same", "--16", "--unmap", "--lba=0", "--num=%d" % (size // 512), dev])
t1 = time.monotonic()
fd = os.open(dev, os.O_WRONLY | os.O_DIRECT)
acked = []
for i, m in enumerate(bufs):
    try:
        os.pwrite(fd, m, (i + 1) * size // 16 - 65536)
        acked.append(i)
    except OSError as e:
        print("marker %d: %s" % (i, e))
os.close(fd)
with open("%s/acked" % work, "w") as f:
    f.write("".join("%d\n" % i for i in acked))
print("WRITE SAME with UNMAP of the whole LUN exited %d after %d ms; %d markers acknowledged in the next %d ms"
      % (ws.returncode, (t1 - t0) * 1000, len(acked), (time.monotonic() - t1) * 1000))
sys.exit(0 if ws.returncode != 0 and acked else 1)
PYEOF
}

# io_errors_in DISK: the lines of stdin (kernel log) that report an I/O
# error on DISK (sdX).
io_errors_in() { grep -E "(I/O error|critical|Buffer I/O).*\b$1\b" || true; }
