# Guest helpers for scenario scripts (bash, run as root by stage2.sh).
# A scenario starts with:   . "$(dirname "$0")/lib.sh"
#
# Results: `pass NAME` / `fail NAME REASON` print `PASS: NAME` / `FAIL: NAME:
# REASON` and append them to $VMTEST_RESULTS/summary, which run-scenarios
# counts. Any command that fails outside a condition aborts the scenario with a
# FAIL line naming it (ERR trap). On failure, dmesg and tcmu-runner's log are
# copied to $VMTEST_RESULTS and their tails printed.
#
# Storage: LIO objects are made by writing configfs directly (fast, no D-Bus);
# targetcli is used only where the user's own path is what a scenario tests.
#
# The helpers live in lib/, one file per concern; this file sets the shared
# state and sources them, so a scenario sources this file only:
#   report  PASS/FAIL, check/must/wait_for, the ERR and EXIT traps
#   lio     modules, brd, raw-configfs backstores, tcm_loop LUNs, targetcli, dev_config
#   runner  tcmu-runner and D-Bus
#   io      fio write+verify workloads
#   switch  the switch handler's device configs and placement checks
#   iscsi   open-iscsi initiator, user:switch over iSCSI, raw-configfs targets
#   dm      device-mapper paths for fault injection

set -Eeuo pipefail

here_lib="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TARGET=/sys/kernel/config/target
WORK=/run/vmtest                      # guest tmpfs: generated configs, logs
RUNNER_LOG=$WORK/log/tcmu-runner.log
STOCK_HANDLERS=/usr/lib/x86_64-linux-gnu/tcmu-runner
mkdir -p "$WORK/log" "$VMTEST_RESULTS"

nr_failed=0
runner_pid=

for part in report lio runner io switch iscsi dm scsi; do
  # shellcheck source=/dev/null
  . "$here_lib/lib/$part.sh"
done
unset part
