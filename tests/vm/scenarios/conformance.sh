#!/usr/bin/env bash
# conformance: libiscsi's SCSI conformance suite (Debian's libiscsi-bin
# iscsi-test-cu) against a 3-path placement user:switch LUN and, in the same
# run and the same iSCSI target, LIO's in-kernel fileio as the reference, over
# iSCSI loopback. Judged against fileio alone (issue #15): every test that
# passes on fileio must pass on user:switch, and a test fileio skips may be
# skipped; nothing is forgiven because tcmu-runner's own emulation fails it
# too. The handler answers INQUIRY, MODE SENSE/SELECT, READ CAPACITY (16),
# REPORT SUPPORTED OPERATION CODES, COMPARE AND WRITE and VERIFY itself and
# checks WRITE SAME's and SYNCHRONIZE CACHE's ranges
# (handler/plugin/scsi_commands.h), with a residual when its Data-In is
# shorter than the allocation length (handler/plugin/ring_residual.h, as
# Inquiry.AllocLength and Inquiry.BlockLimits check); tcmu-runner the rest. The per-suite table (fileio and user:switch side by side) goes to
# the log and $VMTEST_RESULTS/conformance.txt.
# vmtest-timeout: 2400   (~10 min on an idle 2-core host, 20 under load)
. "$(dirname "$0")/lib.sh"

# Every iscsi-test-cu suite that applies to one session on one LUN. Left out:
# PreventAllow and NoMedia (removable media), ReadOnly (needs a read-only
# LUN), MultipathIO and the ProutReserve/ProutPreempt access tests (several
# initiators), iSCSIcmdsn/datasn/Residuals/TMF (the iSCSI target, the same
# code for both LUNs), ReadDefectData10/12 (neither backstore has a defect
# list: both answer from LIO/the runner alike), Reserve6 (SPC-2 reservations,
# LIO core's for both).
suites=(TestUnitReady Inquiry Mandatory ReadCapacity10 ReadCapacity16 Read6 Read10 Read12 Read16
  Write10 Write12 Write16 WriteAtomic16 OrWrite Verify10 Verify12 Verify16 WriteVerify10 WriteVerify12
  WriteVerify16 Unmap WriteSame10 WriteSame16 CompareAndWrite GetLBAStatus Prefetch10 Prefetch16
  ModeSense6 ReportSupportedOpcodes StartStopUnit Sanitize ExtendedCopy ReceiveCopyResults
  PrinReadKeys PrinServiceactionRange PrinReportCapabilities ProutRegister ProutClear)
region_sectors=128
regions=1024
size=$((regions * region_sectors * 512))   # 64 MiB
iqn=iqn.2003-01.org.tcmu-switch.vm:conformance
addr=127.0.0.1
run_seconds=1500   # every suite on one LUN: ~220 s of tests under load (CompareAndWrite ~30)

require_switch_handler
command -v iscsi-test-cu > /dev/null || die "$VMTEST_NAME" "iscsi-test-cu missing (libiscsi-bin)"
target_up
ram_disks 3 $((size / 1024))
start_runner

conf=$(placement_setup "$WORK/conformance" "$region_sectors" "$regions" /dev/ram0 /dev/ram1 /dev/ram2)
ours=$(user_backstore switch0 "switch/$conf" "$size")
truncate -s "$size" "$WORK/fileio0.img"
ref=$(fileio_backstore fileio0 "$WORK/fileio0.img" "$size")
# As libiscsi's CI does: thin provisioning (UNMAP) is off by default on fileio.
echo 1 > "$ref/attrib/emulate_tpu"
iscsi_export_raw "$iqn" "$addr" "$ref" "$ours"
pass "iSCSI target $iqn on $addr: LUN 0 fileio, LUN 1 user:switch"

# run_lun LUN: every suite in one iscsi-test-cu run (one login; a process
# per suite cost more than the tests under TCG), its verbose log to
# iscsi-test-cu-lunN.log. Its exit status says nothing the verdicts do not;
# a run that hangs (a command never answered) is cut and says so.
run_lun() {
  local rc=0 log=$VMTEST_RESULTS/iscsi-test-cu-lun$1.log
  timeout -k 10 "$run_seconds" iscsi-test-cu --dataloss --verbose \
    --test="$(printf 'ALL.%s,' "${suites[@]}" | sed 's/,$//')" "iscsi://$addr/$iqn/$1" > "$log" 2>&1 || rc=$?
  [ "$rc" != 124 ] && [ "$rc" != 137 ] || fail "conformance LUN $1" "iscsi-test-cu cut after ${run_seconds}s"
}

run_lun 0
run_lun 1
# conformance-judge.py: the table (log and conformance.txt) and one verdict
# per suite.
while IFS=$'\t' read -r verdict name reason; do
  if [ "$verdict" = pass ]; then pass "$name"; else fail "$name" "$reason"; fi
done < <(python3 "$here_lib/conformance-judge.py" \
  "$VMTEST_RESULTS/iscsi-test-cu-lun0.log" "$VMTEST_RESULTS/iscsi-test-cu-lun1.log" \
  "$VMTEST_RESULTS/conformance.txt" "${suites[@]}")
cat "$VMTEST_RESULTS/conformance.txt"

iscsi_unexport_raw "$iqn"
remove_backstore "$ours"
remove_backstore "$ref"
pass "target and backstores removed"
check "tcmu-runner exits 0 on SIGTERM" stop_runner
