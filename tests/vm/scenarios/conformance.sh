#!/usr/bin/env bash
# conformance: libiscsi's SCSI conformance suite (Debian's libiscsi-bin
# iscsi-test-cu) against a 3-path placement user:switch LUN and, in the same
# run and the same iSCSI target, LIO's in-kernel fileio as the reference, over
# iSCSI loopback. Every suite below runs on both LUNs; a test counts against
# us only if it fails on ours and passes on fileio (a suite LIO itself fails
# is reported, not held against us). Per-suite results for both LUNs go to
# the log and $VMTEST_RESULTS/conformance.txt.
. "$(dirname "$0")/lib.sh"

suites=(TestUnitReady Inquiry ReadCapacity10 ReadCapacity16 Read10 Read12 Read16
  Write10 Write12 Write16 Verify10 Verify12 Verify16 WriteVerify10 WriteVerify12
  WriteVerify16 Unmap WriteSame10 WriteSame16 CompareAndWrite ModeSense6
  ReportSupportedOpcodes)
region_sectors=128
regions=1024
size=$((regions * region_sectors * 512))   # 64 MiB
iqn=iqn.2003-01.org.tcmu-switch.vm:conformance
addr=127.0.0.1

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

# run_suite SUITE LUN: prints "<test> passed|FAILED" per test of the suite,
# from CUnit's "Test: NAME ...passed" (the test's own log lines may come
# between the dots and the verdict). iscsi-test-cu's exit status says
# nothing more than the verdicts do.
run_suite() {
  local out=$WORK/iscsi-test-cu.out
  iscsi-test-cu --dataloss --normal --test="ALL.$1" "iscsi://$addr/$iqn/$2" > "$out" 2>&1 || true
  cat "$out" >> "$VMTEST_RESULTS/iscsi-test-cu-lun$2.log"
  python3 -c 'import re, sys
for m in re.finditer(r"Test: (\S+) \.\.\.(.*?)(passed|FAILED)", open(sys.argv[1]).read(), re.S):
    print(m.group(1), m.group(3))' "$out"
}

count() { grep -c " $2\$" <<< "$1" || true; }

report=$VMTEST_RESULTS/conformance.txt
printf '%-24s %-18s %-18s\n' suite fileio user:switch | tee "$report"
suites_ours=0 suites_ref=0
for s in "${suites[@]}"; do
  ref_out=$(run_suite "$s" 0)
  our_out=$(run_suite "$s" 1)
  rp=$(count "$ref_out" passed) rf=$(count "$ref_out" FAILED)
  op=$(count "$our_out" passed) of=$(count "$our_out" FAILED)
  printf '%-24s %2d passed %2d failed %2d passed %2d failed\n' "$s" "$rp" "$rf" "$op" "$of" | tee -a "$report"
  [ "$rf" = 0 ] && [ "$rp" -gt 0 ] && suites_ref=$((suites_ref + 1))
  [ "$of" = 0 ] && [ "$op" -gt 0 ] && suites_ours=$((suites_ours + 1))
  if [ $((op + of)) = 0 ]; then
    fail "conformance $s" "no test ran on user:switch (see iscsi-test-cu-lun1.log)"
    continue
  fi
  # Tests that fail on ours but pass on fileio.
  worse=$(comm -23 <(sed -n 's/ FAILED$//p' <<< "$our_out" | sort) \
    <(sed -n 's/ FAILED$//p' <<< "$ref_out" | sort) | tr '\n' ' ')
  if [ -n "$worse" ]; then
    fail "conformance $s" "fails on user:switch, passes on fileio: $worse"
  elif [ "$of" -gt 0 ]; then
    pass "conformance $s (user:switch fails only what fileio fails: $(sed -n 's/ FAILED$//p' <<< "$our_out" | tr '\n' ' '))"
  else
    pass "conformance $s"
  fi
done
log "suites fully passed: fileio $suites_ref of ${#suites[@]}, user:switch $suites_ours of ${#suites[@]}"

iscsi_unexport_raw "$iqn"
remove_backstore "$ours"
remove_backstore "$ref"
pass "target and backstores removed"
check "tcmu-runner exits 0 on SIGTERM" stop_runner
