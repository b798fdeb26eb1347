#!/usr/bin/env bash
# zc_tlb_gap: D3 of the zero-copy review, a munmap() racing the zap of a
# special slot (CVE-2022-39188's race), over tcm_loop to the test handler
# (kmod-patches/tests/zc_test_handler.c, mode tlbgap).
# A 256 KiB O_DIRECT READ at 1 MiB is mapped into a no-GUP slot (the
# initiator's own pages, no page reference). The handler stores into it from
# CPU 1 in a loop and munmap()s the device from CPU 0 with patch 16's delay
# armed: 10 s between unlinking the vma and the munmap's last TLB flush. The
# READ times out (cmd_time_out=3, long enough for a debug kernel's handler to
# be inside its munmap by then) meanwhile and the kernel zaps the slot,
# finding no vma. Once the READ has returned, the initiator's buffer must
# never change. Three rounds:
#   core    6.1 as it is: tlb_end_vma() flushes a VM_MIXEDMAP vma's range
#           before the unlink (b67fbebd4cf9), so the writer loses the page at
#           the munmap's start, even with patch 11's wait skipped (patch 17);
#   wait    the flush at the vma's end skipped too (patch 16: the kernel before
#           that fix): the writer keeps its translation for the 10 s, and
#           patch 11 holds the READ until the munmap's flush;
#   nowait  the same without patch 11's wait: the buffer changes after the
#           READ returned. The check can fail.
# Needs the ci (or debug) kernel: CONFIG_DEBUG_MUNMAP_FLUSH_DELAY and
# CONFIG_TCM_USER2_ZC_FAULT_INJECTION come from kmod-patches/config/zc-tests.config.
# vmtest-kernel: zc
. "$(dirname "$0")/lib.sh"
. "$VMTEST_TOP/kmod-patches/tests/zc-lib.sh"

tests=$VMTEST_TOP/kmod-patches/tests
delay_knob=/sys/kernel/debug/munmap_flush_delay_ms
skip_vma_knob=/sys/kernel/debug/munmap_flush_delay_skip_vma_flush
target_up
zc_require_kernel
mountpoint -q /sys/kernel/debug || must "debugfs mounted" mount -t debugfs none /sys/kernel/debug
[ -e "$delay_knob" ] && [ -e "$skip_vma_knob" ] ||
  die "$VMTEST_NAME" "no $delay_knob: kernel without CONFIG_DEBUG_MUNMAP_FLUSH_DELAY (patch 16)"
[ "$(nproc)" -ge 2 ] || die "$VMTEST_NAME" "needs two CPUs: the handler stores from one while the other unmaps"

size=$((16 * 1024 * 1024))
watch=3	# seconds the initiator watches its buffer after the READ returned
gap_s=10	# zc_test_handler's GAP_DELAY_MS
timeout_s=3

skips_logged() { dmesg | grep -c 'fault injection: wait for pending TLB flushes skipped' || true; }

# gap_round NAME VMA_FLUSH SKIP_WAIT: a fresh backstore and handler, one
# READ in the gap; VMA_FLUSH=0 arms munmap_flush_delay_skip_vma_flush,
# SKIP_WAIT is zc_fault_skip_tlb_wait. The initiator's output in
# $WORK/NAME.out, its exit status (1: the buffer changed after the READ) in
# gap_rc, the handler's "GAP ..." line in $WORK/NAME.gap, what gap_checks
# checks in gap_parked, gap_sink and gap_knobs.
gap_round() {
  local name=$1 vma_flush=$2 skip=$3 bs dev parked0 ipid
  bs=$(zc_backstore "zc_gap_$name" "zctest/ram" "$size" zc_window_mb=32 zc_nogup_slots=8 nl_reply_supported=-1)
  [ -e "$bs/attrib/zc_fault_skip_tlb_wait" ] ||
    die "$VMTEST_NAME" "no zc_fault_skip_tlb_wait: kernel without patch 17"
  zc_set "$bs" zc_enable 1
  zc_set "$bs" zc_special_enable 1
  echo "$timeout_s" > "$bs/attrib/cmd_time_out"
  zc_set "$bs" zc_fault_skip_tlb_wait "$skip"
  skips_armed=$((skips_armed + skip))
  echo $((1 - vma_flush)) > "$skip_vma_knob"
  zc_test_handler_start "zc_gap_$name" "$size" tlbgap
  dev=$(loop_lun "$bs")
  log "$name: tcm_loop LUN served by zc_test_handler: $dev"
  parked0=$(zc_stat "$bs" parked)
  gap_rc=0
  # Nothing else runs until the handler is gone: a process switch on CPU 1
  # would flush the writer's translation before the munmap does.
  python3 "$tests/zc_tlb_gap.py" "$dev" $((1 << 20)) "$watch" "$WORK/$name.released" \
    > "$WORK/$name.out" 2>&1 &
  ipid=$!
  wait "$zch" || true # it exits once its munmap returned
  touch "$WORK/$name.released"
  wait "$ipid" || gap_rc=$?
  rm "$WORK/$name.released"
  sed "s/^/$name initiator| /" "$WORK/$name.out"
  sed "s/^/$name handler| /" "$WORK/zch.out"
  grep '^GAP ' "$WORK/zch.out" > "$WORK/$name.gap" || true
  zc_log_stats "$bs"
  gap_parked=$(($(zc_stat "$bs" parked) - parked0))
  gap_sink=$(zc_stat "$bs" sink_faults)
  gap_knobs="$(cat "$bs/attrib/zc_fault_skip_tlb_wait") $(cat "$skip_vma_knob")"
  echo 0 > "$skip_vma_knob"
  remove_loop_lun "$bs"
  remove_backstore "$bs"
}

# gap_checks NAME: what every round must show
gap_checks() {
  check "$1: the handler got the READ at 1 MiB in a no-GUP slot and unmapped" [ -s "$WORK/$1.gap" ]
  check "$1: its munmap waited $gap_s s before the last TLB flush (patch 16)" gap_at_least "$1" munmap "$gap_s"
  check "$1: the READ timed out and its slot was parked" [ "$gap_parked" = 1 ]
  # Had the READ timed out first, the slot's zap would have found the vma
  # and the writer's next store would have faulted in the sink page.
  check "$1: the munmap began before the READ timed out (no sink fault)" [ "$gap_sink" = 0 ]
  check "$1: the knobs are spent" [ "$gap_knobs" = "0 N" ]
}

# gap_open_round NAME SKIP_WAIT: gap_round without the core's vma-end flush,
# tried again (3 tries in all) while the writer lost its translation before
# the munmap's last flush: then the gap never opened and the round shows
# nothing either way. A TLB entry can go on its own (an eviction; under TCG
# the kernel work of an interrupt on CPU 1 can push it out).
gap_open_round() {
  local try
  for try in 1 2 3; do
    gap_round "$1" 0 "$2"
    ! gap_opened_late "$1" || return 0
    log "$1: try $try: the writer lost its translation $(gap_value "$1" died) s into the munmap, before its last flush"
  done
}

gap_opened_late() { gap_at_least "$1" died $((gap_s - 1)); }

# gap_value NAME KEY: KEY's value in the handler's GAP line
gap_value() { tr ' ' '\n' < "$WORK/$1.gap" | awk -F= -v k="$2" '$1 == k { print $2 }'; }

# gap_at_least NAME KEY S: the handler's GAP line has KEY=value >= S
gap_at_least() {
  tr ' ' '\n' < "$WORK/$1.gap" | awk -F= -v k="$2" -v s="$3" '$1 == k { ok = $2 >= s } END { exit !ok }'
}

# elapsed_at_least NAME S: the initiator's READ took S seconds or more
elapsed_at_least() {
  awk -F= -v s="$2" '$1 == "elapsed" { ok = $2 >= s } END { exit !ok }' "$WORK/$1.out"
}

skips_armed=0

gap_round core 1 1
gap_checks core
check "core: the writer lost the page at the munmap's start (< 1 s), before the unlink" \
  eval '! gap_at_least core died 1'
check "core: the READ completed inside the gap (< $((gap_s - watch)) s), patch 11's wait skipped" \
  eval '! elapsed_at_least core $((gap_s - watch))'
check "core: the initiator's buffer never changed once the READ had returned" [ "$gap_rc" = 0 ]

gap_open_round wait 0
gap_checks wait
check "wait: the writer kept the page until the munmap's last flush (>= $((gap_s - 1)) s)" gap_opened_late wait
check "wait: the READ completed only after that flush (>= $((gap_s - 1)) s)" elapsed_at_least wait $((gap_s - 1))
check "wait: the initiator's buffer never changed once the READ had returned" [ "$gap_rc" = 0 ]

gap_open_round nowait 1
gap_checks nowait
check "nowait: the writer kept the page until the munmap's last flush (>= $((gap_s - 1)) s)" gap_opened_late nowait
check "nowait: the READ completed inside the gap (< $((gap_s - watch)) s)" \
  eval '! elapsed_at_least nowait $((gap_s - watch))'
check "nowait: the handler's stores reach the initiator's buffer after the READ returned (the check can fail)" \
  [ "$gap_rc" = 1 ]
check "patch 11's wait was skipped once per round that armed the skip" [ "$(skips_logged)" = "$skips_armed" ]

check "dmesg: no oops, WARNING, KASAN, lockdep or bad-page report" zc_dmesg_clean
