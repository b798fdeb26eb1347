# Guest helpers: tcmu-runner and D-Bus: handler directory, starting and stopping the runner, its registrations with the kernel. Sourced by lib.sh (scenarios source lib.sh only);
# uses the reporting helpers of report.sh.

# How many times target_core_user has logged a daemon's SET_FEATURES, which
# a runner sends once it listens for netlink commands.
runner_registrations() { dmesg | grep -c -F "tcmu daemon: command reply support" || true; }

registrations_above() { [ "$(runner_registrations)" -gt "$1" ]; }

# ---- tcmu-runner and D-Bus ------------------------------------------------

# The runner takes one handler directory: Debian's stock handlers, the
# baseline `file` handler built by run-guest, and ours when it is built.
handler_dir() {
  local dir=$WORK/handlers
  mkdir -p "$dir"
  ln -sf "$STOCK_HANDLERS"/handler_*.so "$dir/"
  ln -sf "$VMTEST_FILE_HANDLER" "$dir/handler_file.so"
  [ ! -f "$HANDLER_SWITCH_SO" ] || ln -sf "$HANDLER_SWITCH_SO" "$dir/handler_switch.so"
  echo "$dir"
}

# A scenario about user:switch fails, never skips, when the plugin is missing.
require_switch_handler() {
  [ -f "$HANDLER_SWITCH_SO" ] ||
    die "$VMTEST_NAME" "handler_switch.so not built: no $HANDLER_SWITCH_SO (build the project, or set HANDLER_SWITCH_SO)"
}

# targetcli needs a system bus even for `ls`; the runner works without one.
start_dbus() {
  mkdir -p /run/dbus
  [ -s /etc/machine-id ] || dbus-uuidgen --ensure=/etc/machine-id
  dbus-daemon --system --fork > /dev/null
}

runner_on_bus() {
  dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.kernel.TCMUService1 2> /dev/null |
    grep -q 'boolean true'
}

runner_alive() { [ -n "$runner_pid" ] && kill -0 "$runner_pid" 2> /dev/null; }

# Ready for devices once it has told the kernel it answers netlink commands
# (counted, so a restarted runner waits for its own); with a bus, also once it
# owns its name (targetcli discovers handlers there).
start_runner() {
  local before
  before=$(runner_registrations)
  tcmu-runner --handler-path "$(handler_dir)" -l "$WORK/log" &
  runner_pid=$!
  wait_for "tcmu-runner netlink set-up" 60 registrations_above "$before" ||
    die "$VMTEST_NAME" "tcmu-runner did not register with target_core_user"
  if [ -S /run/dbus/system_bus_socket ]; then
    wait_for "org.kernel.TCMUService1 on the bus" 60 runner_on_bus ||
      die "$VMTEST_NAME" "tcmu-runner did not take org.kernel.TCMUService1"
  fi
  runner_alive || die "$VMTEST_NAME" "tcmu-runner exited during start-up"
  log "tcmu-runner up (pid $runner_pid)"
}

runner_log_has() { grep -F -- "$1" "$RUNNER_LOG" > /dev/null; }

# runner_threads [PREFIX]: how many of the runner's threads have a name that
# starts with PREFIX (all of them without one).
runner_threads() { cat /proc/"$runner_pid"/task/*/comm | grep -c "^${1:-}" || true; }

# SIGKILL, as a crash: commands in flight stay in the ring for the next runner.
kill_runner() {
  kill -KILL "$runner_pid"
  wait "$runner_pid" 2> /dev/null || true
  runner_pid=
}

# SIGTERM; the runner closes its devices and exits 0.
stop_runner() {
  kill -TERM "$runner_pid"
  local rc=0
  wait "$runner_pid" || rc=$?
  runner_pid=
  return "$rc"
}
