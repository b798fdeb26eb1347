#!/usr/bin/env bash
# conformance: libiscsi's SCSI conformance suite (Debian's libiscsi-bin
# iscsi-test-cu) against a 3-path placement user:switch LUN and, in the same
# run and the same iSCSI target, LIO's in-kernel fileio as the reference, over
# iSCSI loopback. A third LUN, user:file (upstream tcmu-runner's file
# handler, a read/write handler without handle_cmd), tells the runner's own
# SCSI emulation from our handler: tcmu-runner 1.5.4 answers INQUIRY, MODE
# SENSE, READ CAPACITY and the like itself; our handler's handle_cmd only
# refuses the CDB fields the runner would wrongly execute (cdb_check) and
# passes everything else on, so it serves only READ/WRITE/FLUSH/UNMAP. A test counts against us if it fails on ours
# and passes on fileio, unless it fails on user:file too (then it is the
# runner's, and the PASS line says so by name; user:file runs only for the
# suites where that question arises). Per-suite results for the three LUNs go
# to the log and $VMTEST_RESULTS/conformance.txt.
# vmtest-timeout: 2400   (~10 min on an idle 2-core host, 20 under load)
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
suite_seconds=240   # the slowest suite took ~60 s under TCG

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
truncate -s "$size" "$WORK/file0.img"
runner_ref=$(user_backstore file0 "file/$WORK/file0.img" "$size")
iscsi_export_raw "$iqn" "$addr" "$ref" "$ours" "$runner_ref"
pass "iSCSI target $iqn on $addr: LUN 0 fileio, LUN 1 user:switch, LUN 2 user:file"

# run_suite SUITE LUN: prints "<test> passed|FAILED" per test of the suite,
# from CUnit's verbose "Test: NAME ...passed" (iscsi-test-cu's own log lines
# come between the dots and the verdict), and "<test> skipped" for each test
# that passed only by skipping ("[SKIPPED]": the device lacks a feature the
# test needs). iscsi-test-cu's exit status says nothing the verdicts do not.
run_suite() {
  local out=$WORK/iscsi-test-cu.out
  local rc=0
  # A suite that hangs (a command never answered) must not hang the run.
  timeout -k 10 "$suite_seconds" iscsi-test-cu --dataloss --verbose --test="ALL.$1" \
    "iscsi://$addr/$iqn/$2" > "$out" 2>&1 || rc=$?
  cat "$out" >> "$VMTEST_RESULTS/iscsi-test-cu-lun$2.log"
  [ "$rc" != 124 ] && [ "$rc" != 137 ] || echo "timed-out-after-${suite_seconds}s FAILED"
  python3 -c 'import re, sys
for m in re.finditer(r"Test: (\S+) \.\.\.(.*?)(passed|FAILED)", open(sys.argv[1]).read(), re.S):
    print(m.group(1), m.group(3))
    if m.group(3) == "passed" and "[SKIPPED]" in m.group(2):
        print(m.group(1), "skipped")' "$out"
}

count() { grep -c " $2\$" <<< "$1" || true; }

report=$VMTEST_RESULTS/conformance.txt
printf '%-22s %-30s %-30s %-30s\n' suite "fileio (LUN 0)" "user:switch (LUN 1)" "user:file (LUN 2)" | tee "$report"
suites_ours=0 suites_ref=0
failed_in() { sed -n 's/ FAILED$//p' <<< "$1" | sort; }
tally() {
  printf '%2d passed (%d skipped) %2d failed' "$(count "$1" passed)" "$(count "$1" skipped)" "$(count "$1" FAILED)"
}
for s in "${suites[@]}"; do
  ref_out=$(run_suite "$s" 0)
  our_out=$(run_suite "$s" 1)
  # Tests that fail on ours but pass on fileio. user:file runs only to tell
  # which of those are the runner's (it saves a third of the time).
  worse=$(comm -23 <(failed_in "$our_out") <(failed_in "$ref_out"))
  file_out= file_tally="(not needed)"
  if [ -n "$worse" ]; then
    file_out=$(run_suite "$s" 2)
    file_tally=$(tally "$file_out")
  fi
  printf '%-22s %-30s %-30s %-30s\n' "$s" "$(tally "$ref_out")" "$(tally "$our_out")" "$file_tally" | tee -a "$report"
  rp=$(count "$ref_out" passed) rf=$(count "$ref_out" FAILED)
  op=$(count "$our_out" passed) of=$(count "$our_out" FAILED)
  [ "$rf" = 0 ] && [ "$rp" -gt 0 ] && suites_ref=$((suites_ref + 1))
  [ "$of" = 0 ] && [ "$op" -gt 0 ] && suites_ours=$((suites_ours + 1))
  if [ $((op + of)) = 0 ]; then
    fail "conformance $s" "no test ran on user:switch (see iscsi-test-cu-lun1.log)"
    continue
  fi
  runners=$(comm -12 <(echo "$worse" | sed '/^$/d') <(failed_in "$file_out") | tr '\n' ' ')
  ours_only=$(comm -23 <(echo "$worse" | sed '/^$/d') <(failed_in "$file_out") | tr '\n' ' ')
  if [ -n "${ours_only// /}" ]; then
    fail "conformance $s" "fails on user:switch only (passes on fileio and user:file): $ours_only"
  elif [ -n "${runners// /}" ]; then
    pass "conformance $s (fails on user:file too, tcmu-runner's emulation: $runners)"
  elif [ "$of" -gt 0 ]; then
    pass "conformance $s (fails only what fileio fails: $(failed_in "$our_out" | tr '\n' ' '))"
  else
    pass "conformance $s"
  fi
done
log "suites fully passed: fileio $suites_ref of ${#suites[@]}, user:switch $suites_ours of ${#suites[@]}"

iscsi_unexport_raw "$iqn"
remove_backstore "$ours"
remove_backstore "$runner_ref"
remove_backstore "$ref"
pass "target and backstores removed"
check "tcmu-runner exits 0 on SIGTERM" stop_runner
