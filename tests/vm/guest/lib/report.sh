# Guest helpers: reporting. Sourced first by lib.sh (scenarios source lib.sh
# only): PASS/FAIL lines, check/must/wait_for, and the ERR/EXIT traps that
# turn any failing command into a FAIL line naming it and collect the logs.

# ---- reporting ------------------------------------------------------------

log() { printf '[%8s] %s\n' "$(cut -d' ' -f1 /proc/uptime)" "$*"; }

pass() { echo "PASS: $1" | tee -a "$VMTEST_RESULTS/summary"; }

fail() {
  echo "FAIL: $1: $2" | tee -a "$VMTEST_RESULTS/summary"
  nr_failed=$((nr_failed + 1))
}

die() { fail "$@"; exit 1; }

# check NAME CMD...: PASS when CMD succeeds, else FAIL naming the command.
check() {
  local name=$1
  shift
  if "$@"; then pass "$name"; else fail "$name" "'$*' exited $?"; fi
}

# must NAME CMD...: like check, but the scenario cannot go on without it.
must() {
  local name=$1
  shift
  "$@" || die "$name" "'$*' exited $?"
  pass "$name"
}

# wait_for WHAT SECONDS CMD...: polls CMD every 0.2 s until it succeeds.
wait_for() {
  local what=$1 secs=$2 deadline=$(($(date +%s) + $2))
  shift 2
  until "$@"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "timed out after $secs s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

collect_logs() {
  dmesg > "$VMTEST_RESULTS/dmesg.txt" || true
  [ ! -f "$RUNNER_LOG" ] || cp "$RUNNER_LOG" "$VMTEST_RESULTS/"
  log "---- last lines of tcmu-runner.log ----"
  tail -n 25 "$RUNNER_LOG" 2>/dev/null || true
  log "---- last lines of dmesg ----"
  tail -n 25 "$VMTEST_RESULTS/dmesg.txt" || true
}

# Only the scenario's own shell reports: a failure inside $(...) resurfaces
# there as the failing assignment.
on_error() {
  [ "$BASHPID" = "$$" ] || return 0
  fail "$VMTEST_NAME" "aborted: '$3' exited $1 (line $2${4:+ in $4})"
}

on_exit() {
  local rc=$?
  [ "$rc" = 0 ] || [ "$nr_failed" -gt 0 ] || fail "$VMTEST_NAME" "exited $rc"
  if [ "$nr_failed" -gt 0 ]; then
    collect_logs
    exit 1
  fi
  exit 0
}

trap 'on_error $? $LINENO "$BASH_COMMAND" "${FUNCNAME[0]:-}"' ERR
trap on_exit EXIT
