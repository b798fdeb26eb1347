#!/usr/bin/env bash
# iser: the iscsi scenario over iSER on soft-RoCE. The guest has no network
# card: rdma_rxe runs on a dummy interface made here, so nothing leaves the
# guest. The target portal gets enable_iser; open-iscsi logs in with its iser
# transport; the session must really be iSER, not TCP.
. "$(dirname "$0")/lib.sh"

addr=10.99.0.1   # on the guest's own dummy interface

require_switch_handler
target_up
load_modules iscsi_target_mod rdma_rxe ib_isert ib_iser
ip link add rxe-dummy type dummy
ip addr add "$addr/24" dev rxe-dummy
ip link set rxe-dummy up
must "soft-RoCE device rxe0 on a guest-local dummy interface" \
  rdma link add rxe0 type rxe netdev rxe-dummy
start_dbus
start_runner
switch_over_iscsi iser "$addr"
check "tcmu-runner exits 0 on SIGTERM" stop_runner
