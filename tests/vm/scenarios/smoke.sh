#!/usr/bin/env bash
# smoke: the guest kernel's target stack comes up (modules, configfs), and
# Debian's tcmu-runner registers with target_core_user and loads our switch
# handler next to the baseline file handler.
. "$(dirname "$0")/lib.sh"

target_up
pass "target core, tcm_loop and configfs up"
start_runner
pass "tcmu-runner registered with target_core_user"
check "handler file registered" runner_log_has "Handler file is registered"
if [ -f "$HANDLER_SWITCH_SO" ]; then
  check "handler switch registered" runner_log_has "Handler switch is registered"
else
  fail "handler switch registered" "handler_switch.so not built: no $HANDLER_SWITCH_SO"
fi
check "tcmu-runner exits 0 on SIGTERM" stop_runner
