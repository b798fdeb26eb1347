#!/usr/bin/env bash
# zc_guards: what zero copy must never expose or change (kmod-patches issue
# "make zero copy safe"). Needs the kmod-patches kernel (run-guest --kernel).
# Each part fails on the series before that fix:
# 1. guard bytes around O_DIRECT transfers at 512-byte alignment that do not
#    cover whole pages, over tcm_loop to user:switch with special slots: the
#    initiator's bytes outside the transfer are neither zeroed nor changed,
#    data exact, whole-page transfers still mapped (D1);
# 2. XCOPY (sg_xcopy) from a fileio LUN to a user:switch LUN with
#    zc_unmap_batch=16: the data arrives exact and the destination handler
#    keeps no page of XCOPY's reused buffer mapped (D2);
# 3. last, with tcmu-runner stopped: a test handler without tcmu-runner
#    (kmod-patches/tests/zc_test_handler.c, compiled here) on a tcm_loop LUN
#    with special slots: mmap(MAP_PRIVATE) is refused (D10); a forked child
#    has no mapping (D10, VM_DONTCOPY); a
#    store into a no-GUP WRITE's range raises SIGBUS (D4); every READ's range
#    holds zeroes when the handler gets it (D12, zeroed before cmdr_lock
#    since patch 13); a READ held past
#    cmd_time_out has its slot moved to the sink page, the handler's marker
#    never reaches the initiator's buffer, and the slot is unmapped once the
#    command completes (pagemap); all of it through a second node of the
#    device (mknod), which /dev/uioN cannot open beside (D6).
# vmtest-kernel: zc
. "$(dirname "$0")/lib.sh"
. "$VMTEST_TOP/kmod-patches/tests/zc-lib.sh"

tests=$VMTEST_TOP/kmod-patches/tests
target_up
zc_require_kernel

# ---- 1. guard bytes around non-page-multiple O_DIRECT transfers ------------
start_runner
size=$((64 * 1024 * 1024))
bs=$(zc_switch_backstore zc_canary "$size" zc_window_mb=64 zc_nogup_slots=16)
zc_set "$bs" zc_enable 1
zc_set "$bs" zc_special_enable 1
dev=$(loop_lun "$bs")
sp0=$(zc_stat "$bs" special_cmds)
check "canaries: O_DIRECT at 512-byte alignment leaves the initiator's other bytes alone" \
  python3 "$tests/zc_canary.py" "$dev"
zc_log_stats "$bs"
check "canaries: whole-page transfers still mapped with special PTEs" \
  zc_grew "$sp0" "$(zc_stat "$bs" special_cmds)"
remove_loop_lun "$bs"
remove_backstore "$bs"

# ---- 2. XCOPY into a user backstore ------------------------------------------
size=$((32 * 1024 * 1024))
truncate -s "$size" "$WORK/xsrc.img"
python3 -c "import os,sys; open(sys.argv[1],'r+b').write(os.urandom($size))" "$WORK/xsrc.img"
src=$(fileio_backstore zc_xsrc "$WORK/xsrc.img" "$size")
dst=$(zc_switch_backstore zc_xdst "$size" zc_window_mb=64 zc_nogup_slots=16)
# XCOPY finds its devices by the NAA designator, which holds only the first
# 25 hex digits of the unit serial: make the two differ at the start.
echo a0010000-0000-4000-8000-00000000a001 > "$src/wwn/vpd_unit_serial"
echo a0020000-0000-4000-8000-00000000a002 > "$dst/wwn/vpd_unit_serial"
zc_set "$dst" zc_enable 1
zc_set "$dst" zc_special_enable 1
zc_set "$dst" zc_unmap_batch 16
# Both LUNs behind one tcm_loop nexus: target core's XCOPY looks for the
# other device among the LUNs of the session that sent the command.
dsrc=$(loop_lun "$src")
xtpg=$TARGET/loopback/$(wwn_for "$src")/tpgt_1
mkdir "$xtpg/lun/lun_1"
ln -s "$dst" "$xtpg/lun/lun_1/$(basename "$dst")"
xaddr=$(cat "$xtpg/address"):1
wait_for "the SCSI disk at $xaddr" 30 scsi_disk_of "$xaddr" > /dev/null ||
  die "$VMTEST_NAME" "no disk appeared for LUN 1 of $xtpg"
ddst=/dev/$(scsi_disk_of "$xaddr")
uio=/dev/$(basename "$(dirname "$(grep -l "/zc_xdst/" /sys/class/uio/uio*/name)")")
# sg_xcopy talks to the SCSI generic nodes of the two disks; the XCOPY goes
# to the fileio LUN, so target core's XCOPY engine (not tcmu-runner's) reads
# the source into its buffer and writes it to the user backstore.
sg_of() { echo "/dev/$(ls "/sys/block/$(basename "$1")/device/scsi_generic/")"; }
log "XCOPY $dsrc $(sg_of "$dsrc") (fileio) -> $ddst $(sg_of "$ddst") (user:switch, $uio)"
check "xcopy: sg_xcopy 8 MiB fileio -> user:switch" \
  sg_xcopy --on_src id_usage=disable if="$(sg_of "$dsrc")" of="$(sg_of "$ddst")" bs=512 count=16384
zc_log_stats "$dst"
sync
echo 3 > /proc/sys/vm/drop_caches
check "xcopy: the destination holds the source's data" \
  cmp -n $((8 * 1024 * 1024)) "$dsrc" "$ddst"
present=$(python3 "$tests/zc_window_present.py" "$runner_pid" "$uio" 64)
log "xcopy: window pages the destination's handler still maps: $present"
check "xcopy: no page of XCOPY's buffer left mapped in the destination handler" zc_same 0 "$present"
rm "$xtpg/lun/lun_1/$(basename "$dst")"
rmdir "$xtpg/lun/lun_1"
remove_loop_lun "$src"
remove_backstore "$src"
remove_backstore "$dst"

check "tcmu-runner exits 0 on SIGTERM" stop_runner

# ---- 3. the test handler (last: on a kernel without the fixes it may oops)
size=$((16 * 1024 * 1024))
bs=$(zc_backstore zc_probe "zctest/ram" "$size" zc_window_mb=32 zc_nogup_slots=8 nl_reply_supported=-1)
zc_set "$bs" zc_enable 1
zc_set "$bs" zc_special_enable 1
echo 1 > "$bs/attrib/cmd_time_out"
# The handler maps the device through a second node of it (D6): the zaps
# below must reach that mapping, and /dev/uioN must not open meanwhile.
uio=$(basename "$(dirname "$(grep -l "/zc_probe/" /sys/class/uio/uio*/name)")")
must "a second node of /dev/$uio" mknod "$WORK/uio-alias" c \
  "$(cut -d: -f1 "/sys/class/uio/$uio/dev")" "$(cut -d: -f2 "/sys/class/uio/$uio/dev")"
ZC_TEST_NODE=$WORK/uio-alias zc_test_handler_start zc_probe "$size" stall
dev=$(loop_lun "$bs")
log "tcm_loop LUN served by zc_test_handler: $dev"
# A 256 KiB O_DIRECT WRITE (special slot: the handler probes a store), then
# a READ of it that the handler holds past cmd_time_out; the initiator's
# buffer must never hold the marker (0xee) written after the timeout.
check "stalled READ: the initiator never sees the handler's late marker" python3 - "$dev" <<'EOF'
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_DIRECT)
buf = mmap.mmap(-1, 262144, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)  # anon, not shmem
data = bytes(range(256)) * 1024
buf[:] = data
os.pwritev(fd, [buf], 1 << 20)
buf[:] = b"\x11" * 262144
try:
    n = os.preadv(fd, [buf], 1 << 20)
    print(f"READ returned {n} bytes")
    ok = buf[:] == data
except OSError as e:
    print(f"READ failed ({e}), as a timed-out command may")
    ok = b"\xee" not in buf[:]
print("buffer " + ("clean" if ok else "holds foreign bytes: " + buf[:16].hex()))
sys.exit(0 if ok else 1)
EOF
zc_log_stats "$bs"
zc_test_handler_stop
while read -r word rest; do
  case $word in
    PASS:) pass "zc_test_handler: $rest" ;;
    FAIL:) fail "zc_test_handler: ${rest%%: *}" "${rest#*: }" ;;
  esac
done < "$WORK/zch.out"
for name in "mmap(MAP_PRIVATE) of a device with a zero-copy window is refused" \
  "fork: the child does not inherit the mapping" \
  "a store into a no-GUP WRITE's range raises SIGBUS" \
  "stalled READ: after cmd_time_out its slot maps another page" \
  "stalled READ: slot unmapped once the command completed" \
  "second node: the device node cannot open while another node maps it" \
  "every zero-copy READ's range holds zeroes when the handler gets it"; do
  grep -qF -- "$name" "$WORK/zch.out" || fail "zc_test_handler: $name" "the check never ran"
done
rm "$WORK/uio-alias"
remove_loop_lun "$bs"
remove_backstore "$bs"

check "dmesg: no oops, WARNING, KASAN, lockdep or bad-page report" zc_dmesg_clean
