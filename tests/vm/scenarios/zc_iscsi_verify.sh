#!/usr/bin/env bash
# zc_iscsi_verify: zero copy on target-allocated pages, the refcounted
# vm_insert_pages() path. Needs the kmod-patches kernel (run-guest --kernel).
# A user:switch backstore (this tree's handler, which opts in to zero copy)
# with a 288 MiB zero-copy window, on a tmpfs file,
# exported over iSCSI on 127.0.0.1 and logged in with open-iscsi. fio writes
# and reads back 8 MiB with crc32c at 4 KiB, 64 KiB, 256 KiB and 1 MiB, with
# zc_enable 0 and then 1. zc_stats must show nothing mapped while off, 4 KiB
# commands (below zc_min_len) copied, larger READs and WRITEs mapped and
# faulted in, and no fallback for page kind or alignment. zc_read_mode=2 is
# refused. zc_unmap_batch 0, 1 and its maximum (stale_flushes, unmap_calls,
# pagemap of the handler's window); zero copy toggled under fio verify, and
# no window page left mapped once it is off; a 4-slot window under 16
# commands in flight (fallback_noslot, data exact). dmesg stays clean.
# vmtest-kernel: zc
. "$(dirname "$0")/lib.sh"
. "$VMTEST_TOP/kmod-patches/tests/zc-lib.sh"

size=$((64 * 1024 * 1024))

zc_iscsi_up

bs=$(zc_switch_backstore zc_iscsi "$size" zc_window_mb=288)
pass "user:switch with a zero-copy window: $(tr -s '\n ' ' ' < "$bs/info")"
check "zc_enable defaults to 0" [ "$(cat "$bs/attrib/zc_enable")" = 0 ]
check "zc_min_len defaults to 65536" [ "$(cat "$bs/attrib/zc_min_len")" = 65536 ]
raw_reads_refused() { ! zc_set "$bs" zc_read_mode 2 2> /dev/null && [ "$(cat "$bs/attrib/zc_read_mode")" = 1 ]; }
check "zc_read_mode=2 (unzeroed READ pages) is refused" raw_reads_refused
iqn=$(zc_iscsi_export "$bs" zc-iscsi)
dev=$(iscsi_login "$iqn" 127.0.0.1)
pass "open-iscsi logged in: $dev"

for zc in 0 1; do
  zc_set "$bs" zc_enable "$zc"
  for b in 4k 64k 256k 1m; do
    name="iscsi-zc$zc-$b"
    cmds0=$(zc_stat "$bs" zc_cmds) w0=$(zc_stat "$bs" zc_writes) r0=$(zc_stat "$bs" zc_reads)
    size0=$(zc_stat "$bs" fallback_size) f0=$(zc_stat "$bs" faults)
    page0=$(zc_stat "$bs" fallback_page) align0=$(zc_stat "$bs" fallback_align)
    check "$name: fio write + read back, crc32c" zc_fio "$name" "$dev" "$b" randwrite
    zc_log_stats "$bs"
    if ! zc_check_unmapped "$name" "$zc" "$b" "$bs" "$cmds0" "$size0"; then
      check "$name: WRITEs mapped" zc_grew "$w0" "$(zc_stat "$bs" zc_writes)"
      check "$name: READs mapped" zc_grew "$r0" "$(zc_stat "$bs" zc_reads)"
      check "$name: the handler faulted window pages in" zc_grew "$f0" "$(zc_stat "$bs" faults)"
      check "$name: no fallback for page kind" zc_same "$page0" "$(zc_stat "$bs" fallback_page)"
      check "$name: no fallback for alignment" zc_same "$align0" "$(zc_stat "$bs" fallback_align)"
    fi
  done
done
check "no special (no-GUP) commands over iSCSI" [ "$(zc_stat "$bs" special_cmds)" = 0 ]

uio=/dev/$(basename "$(dirname "$(grep -l "/zc_iscsi/" /sys/class/uio/uio*/name)")")
window_present() { python3 "$VMTEST_TOP/kmod-patches/tests/zc_window_present.py" "$runner_pid" "$uio" 288; }
fio_rw() { # NAME: 8 commands of 256 KiB written, then read back and verified
  fio --name="$1" --filename="$dev" --ioengine=libaio --direct=1 --iodepth=4 --rw=write \
    --bs=256k --size=2m --verify=crc32c --do_verify=1 --verify_fatal=1 --eta=never --output=/dev/null
}
# batch_round BATCH: fio_rw with zc_unmap_batch=BATCH; sets the deltas of
# zc_cmds (dz), zc_reads (dr), zc_writes (dw), stale_flushes (ds) and
# unmap_calls (du). The block layer may merge adjacent commands, so the
# checks count what was mapped, not the 16 commands fio issued.
batch_round() {
  local z0 r0 w0 s0 u0
  zc_set "$bs" zc_unmap_batch "$1"
  z0=$(zc_stat "$bs" zc_cmds) r0=$(zc_stat "$bs" zc_reads) w0=$(zc_stat "$bs" zc_writes)
  s0=$(zc_stat "$bs" stale_flushes) u0=$(zc_stat "$bs" unmap_calls)
  check "batch $1: fio 8 x 256 KiB written and read back, crc32c" fio_rw "batch$1"
  dz=$(( $(zc_stat "$bs" zc_cmds) - z0 )) dr=$(( $(zc_stat "$bs" zc_reads) - r0 ))
  dw=$(( $(zc_stat "$bs" zc_writes) - w0 ))
  ds=$(( $(zc_stat "$bs" stale_flushes) - s0 )) du=$(( $(zc_stat "$bs" unmap_calls) - u0 ))
  log "batch $1: zc_cmds +$dz zc_reads +$dr zc_writes +$dw stale_flushes +$ds unmap_calls +$du"
}

# zc_unmap_batch: 0 unmaps each command at completion; 1 defers it and
# flushes at once, one flush per command, READs included; the maximum (the
# slot count) keeps every completed command mapped until zero copy is
# turned off, which zaps them all.
both_mapped() { [ "$dr" -gt 0 ] && [ "$dw" -gt 0 ] && [ "$dz" -eq $((dr + dw)) ]; }
batch_round 0
check "batch 0: READs and WRITEs mapped" both_mapped
check "batch 0: nothing deferred (stale_flushes unchanged)" zc_same 0 "$ds"
check "batch 0: one unmap per command" zc_same "$dz" "$du"
batch_round 1
check "batch 1: READs and WRITEs mapped" both_mapped
check "batch 1: one stale flush per command, READs deferred too" zc_same "$dz" "$ds"
nr_slots=$(( 288 / 2 ))
too_big() { ! zc_set "$bs" zc_unmap_batch $((nr_slots + 1)) 2> /dev/null; }
check "zc_unmap_batch above the slot count ($nr_slots) is refused" too_big
check "zc_unmap_batch unchanged by the refused value" [ "$(cat "$bs/attrib/zc_unmap_batch")" = 1 ]
batch_round "$nr_slots"
check "batch max: READs and WRITEs mapped" both_mapped
check "batch max: no flush, no unmap while the window has free slots" zc_same 0 $((ds + du))
present=$(window_present)
log "batch max: window pages the handler still maps: $present"
check "batch max: the completed commands' pages are still mapped" zc_grew 0 "$present"
s0=$(zc_stat "$bs" stale_flushes)
zc_set "$bs" zc_enable 0
check "zc_enable=0 zaps the deferred slots at once" zc_grew "$s0" "$(zc_stat "$bs" stale_flushes)"
check "zc_enable=0: no window page left mapped" zc_same 0 "$(window_present)"
zc_log_stats "$bs"

# Zero copy switched on and off under fio verify (batch 16): no verify
# error, and once it is off for good the handler maps nothing. fio covers the
# whole LUN three times (write, then verify, each pass) so that it outlasts
# several flips: one 16 MiB pass took 0.4 s in TCG.
zc_set "$bs" zc_unmap_batch 16
z0=$(zc_stat "$bs" zc_cmds)
fio --name=toggle --filename="$dev" --ioengine=libaio --direct=1 --iodepth=8 --rw=randwrite \
  --bs=256k --size=64m --loops=3 --verify=crc32c --do_verify=1 --verify_fatal=1 --eta=never \
  --output="$VMTEST_RESULTS/fio-toggle.txt" &
fio_pid=$!
toggles=0
while kill -0 "$fio_pid" 2> /dev/null; do
  zc_set "$bs" zc_enable $(( (toggles + 1) % 2 ))
  toggles=$((toggles + 1))
  sleep 0.2
done
check "toggle: fio 3 x 64 MiB randwrite + verify while zc_enable flips ($toggles times)" wait "$fio_pid"
check "toggle: zc_enable flipped at least 4 times during fio" zc_grew 3 "$toggles"
check "toggle: commands were mapped meanwhile" zc_grew "$z0" "$(zc_stat "$bs" zc_cmds)"
zc_set "$bs" zc_enable 0
check "toggle: zc_enable=0 leaves no window page mapped" zc_same 0 "$(window_present)"
zc_log_stats "$bs"

must "open-iscsi logged out" iscsi_logout "$iqn" 127.0.0.1
zc_iscsi_unexport "$bs" "$iqn"
remove_backstore "$bs"

# Window exhaustion: 4 slots (8 MiB) under 16 commands in flight. Commands
# that find no free slot are copied (fallback_noslot), the data stays exact;
# with zc_unmap_batch at its maximum (4) the STALE slots are flushed when
# the window runs out, not left to starve it.
bs=$(zc_switch_backstore zc_small "$size" zc_window_mb=8)
zc_set "$bs" zc_enable 1
zc_set "$bs" zc_unmap_batch 4
iqn=$(zc_iscsi_export "$bs" zc-small)
dev=$(iscsi_login "$iqn" 127.0.0.1)
n0=$(zc_stat "$bs" fallback_noslot) z0=$(zc_stat "$bs" zc_cmds) s0=$(zc_stat "$bs" stale_flushes)
check "4 slots: fio 8 MiB randwrite + verify at iodepth 16, crc32c" zc_fio small "$dev" 256k randwrite --iodepth=16
zc_log_stats "$bs"
check "4 slots: commands without a free slot copied (fallback_noslot)" zc_grew "$n0" "$(zc_stat "$bs" fallback_noslot)"
check "4 slots: the others mapped" zc_grew "$z0" "$(zc_stat "$bs" zc_cmds)"
check "4 slots: STALE slots flushed when the window ran out" zc_grew "$s0" "$(zc_stat "$bs" stale_flushes)"
must "open-iscsi logged out of $iqn" iscsi_logout "$iqn" 127.0.0.1
zc_iscsi_unexport "$bs" "$iqn"
remove_backstore "$bs"
check "tcmu-runner exits 0 on SIGTERM" stop_runner
check "dmesg: no oops, WARNING, KASAN, lockdep or bad-page report" zc_dmesg_clean
