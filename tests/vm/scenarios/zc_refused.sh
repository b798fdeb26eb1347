#!/usr/bin/env bash
# zc_refused: pages and PTEs the zero-copy kernel must refuse to hand a
# handler (kmod-patches issue "make zero copy safe"), over tcm_loop to the
# test handler (kmod-patches/tests/zc_test_handler.c) with no-GUP slots.
# 1. D9: an O_DIRECT buffer in a transparent huge page gives tcm_loop a
#    compound page, which vm_insert_pages_mkspecial() refuses: the command
#    must be classified for the copy path at queue time (fallback_page), not
#    fail at fault time (SIGBUS), and the data must be exact; the same I/O
#    from small pages is mapped (the classifier, not a setting, decides).
# 2. D8: with the fault-injection knob of patch 15 (zc_fault_skip_unmap=1)
#    the slot of a 64 KiB WRITE is freed without its zap; a 128 KiB WRITE
#    then takes the same slot, the handler faults its last page first, and
#    tcmu_zc_insert() must find the previous command's PTE in the slot's
#    first page, WARN "foreign PTE" and raise SIGBUS: the WRITE fails and
#    the LUN never holds the first command's bytes in its place.
# Needs the ci (or debug) kernel: THP and CONFIG_TCM_USER2_ZC_FAULT_INJECTION
# come from kmod-patches/config/zc-tests.config.
# vmtest-kernel: zc
. "$(dirname "$0")/lib.sh"
. "$VMTEST_TOP/kmod-patches/tests/zc-lib.sh"

tests=$VMTEST_TOP/kmod-patches/tests
target_up
zc_require_kernel
[ -e /sys/kernel/mm/transparent_hugepage/enabled ] ||
  die "$VMTEST_NAME" "the kernel has no transparent huge pages (kmod-patches/config/zc-tests.config)"

size=$((16 * 1024 * 1024))
bs=$(zc_backstore zc_refused "zctest/ram" "$size" zc_window_mb=32 zc_nogup_slots=8 nl_reply_supported=-1)
[ -e "$bs/attrib/zc_fault_skip_unmap" ] ||
  die "$VMTEST_NAME" "no zc_fault_skip_unmap: kernel without CONFIG_TCM_USER2_ZC_FAULT_INJECTION (patch 15)"
zc_set "$bs" zc_enable 1
zc_set "$bs" zc_special_enable 1
zc_test_handler_start zc_refused "$size" foreign
dev=$(loop_lun "$bs")
log "tcm_loop LUN served by zc_test_handler: $dev"

# ---- 1. D9: a compound page is copied, small pages are mapped
echo madvise > /sys/kernel/mm/transparent_hugepage/enabled
zc0=$(zc_stat "$bs" zc_cmds) page0=$(zc_stat "$bs" fallback_page)
check "thp: 256 KiB from a huge page and from small pages, data exact" python3 "$tests/zc_refused.py" thp "$dev"
zc_log_stats "$bs"
check "thp: the huge page's WRITE and READ took the copy path (fallback_page +2)" \
  [ "$(zc_stat "$bs" fallback_page)" = $((page0 + 2)) ]
check "thp: the small pages' WRITE and READ were mapped (zc_cmds +2)" \
  [ "$(zc_stat "$bs" zc_cmds)" = $((zc0 + 2)) ]
handler_sigbus_free() { ! grep -q '^SIGBUS' "$WORK/zch.out"; }
check "thp: no command failed at fault time (the handler saw no SIGBUS)" handler_sigbus_free

# ---- 2. D8: a slot reused without its zap
skips_logged() { dmesg | grep -c 'fault injection: zap of zero-copy slots' || true; }
foreign_warned() { dmesg | grep -qE 'zc_refused: zero-copy slot [0-9]+: foreign PTE at page 0'; }
check "foreign: no foreign-PTE warning before the injection" eval '! foreign_warned'
zc_set "$bs" zc_fault_skip_unmap 1
check "foreign: A's WRITE is kept, B's fails, B's range never holds A's bytes" \
  python3 "$tests/zc_refused.py" foreign "$dev"
zc_log_stats "$bs"
check "foreign: exactly one zap was skipped (A's)" [ "$(skips_logged)" = 1 ]
check "foreign: the knob is spent" [ "$(cat "$bs/attrib/zc_fault_skip_unmap")" = 0 ]
check "foreign: the handler's fault on B's last page got SIGBUS" grep -qx 'SIGBUS lba=16384 len=131072' "$WORK/zch.out"
check "foreign: tcmu_zc_insert() warned of the foreign PTE" foreign_warned
check "foreign: after B's release the slot serves again (256 KiB, data exact)" \
  python3 "$tests/zc_refused.py" thp "$dev"

zc_test_handler_stop
check "the handler refused exactly one command" grep -q 'refused=1$' "$WORK/zch.out"
remove_loop_lun "$bs"
remove_backstore "$bs"

# The foreign-PTE WARN (tcmu_zc_insert(), inlined in the fault handler) is
# the one expected report, and there is exactly one.
dmesg_clean_but_foreign() {
  zc_dmesg_clean 'WARNING: .* at drivers/target/target_core_user.c:[0-9]+ tcmu_vma_fault'
}
check "dmesg: one WARNING, the foreign PTE's" [ "$(dmesg | grep -c 'WARNING:')" = 1 ]
check "dmesg: no oops, other WARNING, KASAN, lockdep or bad-page report" dmesg_clean_but_foreign
