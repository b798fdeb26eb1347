# Guest helpers for the zero-copy scenarios (tests/vm/scenarios/zc_*.sh) and
# the zero-copy benchmarks (tests/bench/zc_switch_bench_vm.sh, guest_bench.sh), on top of
# tests/vm/guest/lib.sh. They need a kernel built from kmod-patches
# (kmod-patches/build-kernel.sh), booted with run-guest --kernel; on any other
# kernel zc_require_kernel fails the scenario and says so.

ZC_IQN_PREFIX=iqn.2003-01.org.tcmu-switch.vm

# zc_kernel_has_series: the running kernel's target_core_user has the series.
zc_kernel_has_series() {
  local probe=$TARGET/core/user_99/zc_probe ok=0
  mkdir -p "$probe"
  # A stock kernel ignores unknown control keys, so look for the attribute.
  [ ! -f "$probe/attrib/zc_enable" ] || ok=1
  rmdir "$probe" "$(dirname "$probe")"
  [ "$ok" = 1 ]
}

# zc_require_kernel: the scenario cannot go on without the series.
zc_require_kernel() {
  zc_kernel_has_series ||
    die "$VMTEST_NAME" "kernel $(uname -r) has no zero-copy target_core_user (no attrib/zc_enable): boot the kmod-patches kernel (run-guest --kernel)"
  log "kernel $(uname -r) has the zero-copy series"
  zc_builtin_module_tree
}

# zc_iscsi_up: LIO with iSCSI, iscsid and tcmu-runner on a kmod-patches kernel.
zc_iscsi_up() {
  target_up
  load_modules iscsi_target_mod iscsi_tcp
  zc_require_kernel
  start_iscsid
  start_runner
}

# zc_check_unmapped NAME ZC BS BACKSTORE_DIR CMDS0 FALLBACK_SIZE0: the checks
# of a verify round that must copy, not map: zc_enable=0, or BS below
# zc_min_len. Returns 1, checking nothing, for a round that should map.
zc_check_unmapped() {
  local name=$1 zc=$2 bs=$3 dir=$4 cmds0=$5 size0=$6
  if [ "$zc" = 0 ]; then
    check "$name: nothing mapped with zc_enable=0" zc_same "$cmds0" "$(zc_stat "$dir" zc_cmds)"
  elif [ "$bs" = 4k ]; then
    check "$name: 4 KiB commands copied (below zc_min_len)" zc_same "$cmds0" "$(zc_stat "$dir" zc_cmds)"
    check "$name: counted as fallback_size" zc_grew "$size0" "$(zc_stat "$dir" fallback_size)"
  else
    return 1
  fi
}

# zc_builtin_module_tree: tcmu-runner asks libkmod for target_core_user and
# exits if there is no module tree that names it, built in or not. A kernel
# from build-kernel.sh has every driver built in and no module tree, so give
# the guest one that lists the built-in target modules.
zc_builtin_module_tree() {
  local dir=/lib/modules/$(uname -r)
  [ ! -e "$dir/modules.dep" ] || return 0
  mkdir -p "$dir"
  printf 'kernel/drivers/target/%s.ko\n' target_core_mod target_core_user \
    target_core_file target_core_iblock loopback/tcm_loop iscsi/iscsi_target_mod \
    > "$dir/modules.builtin"
  printf 'kernel/drivers/%s.ko\n' uio/uio scsi/iscsi_tcp scsi/sd_mod >> "$dir/modules.builtin"
  : > "$dir/modules.order"
  depmod "$(uname -r)"
  log "module tree for built-in drivers: $dir"
}

# zc_backstore NAME CFGSTRING SIZE [CONTROL...]: a user: backstore with 1 MiB
# commands allowed (hw_max_sectors=2048) and the extra control keys (e.g.
# zc_window_mb=288); prints its configfs dir.
zc_backstore() {
  local name=$1 cfg=$2 size=$3 dir=$TARGET/core/user_1/$1 kv
  shift 3
  mkdir -p "$dir"
  echo -n "dev_config=$cfg" > "$dir/control"
  echo -n "dev_size=$size" > "$dir/control"
  echo -n "hw_max_sectors=2048" > "$dir/control"
  for kv in "$@"; do
    echo -n "$kv" > "$dir/control"
  done
  echo 1 > "$dir/enable" || die "$VMTEST_NAME" "enabling user backstore $name ($cfg $*) failed"
  echo "$dir"
}

# zc_switch_backstore NAME SIZE [CONTROL...]: a user:switch backstore (this
# tree's handler, which opts in to zero copy) of SIZE bytes over one path, a
# file on the guest's tmpfs: tmpfs refuses O_DIRECT, so the handler does
# buffered I/O there, on mapped and no-GUP slots alike. CONTROL as for
# zc_backstore; prints the configfs dir.
zc_switch_backstore() {
  local name=$1 size=$2 dir=$WORK/zc-$1
  shift 2
  require_switch_handler
  mkdir -p "$dir"
  truncate -s "$size" "$dir/path0.img"
  switch_config "$dir/lun.conf" placement 8192 "" "$dir/path0.img"
  zc_backstore "$name" "switch/$dir/lun.conf" "$size" "$@"
}

# zc_stat BACKSTORE_DIR NAME: one counter of attrib/zc_stats.
zc_stat() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { exit !f }' "$1/attrib/zc_stats"; }

zc_log_stats() { log "zc_stats of $(basename "$1"): $(tr '\n' ' ' < "$1/attrib/zc_stats")"; }

# zc_set BACKSTORE_DIR ATTR VALUE
zc_set() { echo "$3" > "$1/attrib/$2"; }

# zc_iscsi_export BACKSTORE_DIR NAME: LUN 0 of iSCSI target <prefix>:NAME on
# 127.0.0.1:3260, open to any initiator, by raw configfs; prints the IQN.
zc_iscsi_export() {
  local bs=$1 iqn=$ZC_IQN_PREFIX:$2 tpg
  tpg=$TARGET/iscsi/$iqn/tpgt_1
  mkdir -p "$tpg/lun/lun_0"
  ln -s "$bs" "$tpg/lun/lun_0/$(basename "$bs")"
  [ -d "$tpg/np/127.0.0.1:3260" ] || mkdir "$tpg/np/127.0.0.1:3260"
  echo 0 > "$tpg/attrib/authentication"
  echo 1 > "$tpg/attrib/generate_node_acls"
  echo 1 > "$tpg/attrib/cache_dynamic_acls"
  echo 0 > "$tpg/attrib/demo_mode_write_protect"
  echo 1 > "$tpg/enable"
  echo "$iqn"
}

zc_iscsi_unexport() {
  local bs=$1 iqn=$2 tpg
  tpg=$TARGET/iscsi/$iqn/tpgt_1
  echo 0 > "$tpg/enable"
  rmdir "$tpg/np/127.0.0.1:3260"
  rm "$tpg/lun/lun_0/$(basename "$bs")"
  rmdir "$tpg/lun/lun_0" "$tpg" "$TARGET/iscsi/$iqn"
}

# zc_fio NAME DEV BS RW [FIO_OPTION...]: direct I/O in BS commands (8 MiB,
# 2 MiB at 4 KiB: TCG is slow), written and read back with crc32c
# verification (rw=write or randwrite). JSON in $VMTEST_RESULTS/fio-NAME.json.
zc_fio() {
  local name=$1 dev=$2 bs=$3 rw=$4 size=8m
  shift 4
  [ "$bs" != 4k ] || size=2m
  fio --name="$name" --filename="$dev" --ioengine=libaio --direct=1 --iodepth=8 \
    --rw="$rw" --bs="$bs" --size="$size" --verify=crc32c --do_verify=1 --verify_fatal=1 \
    --output-format=json --eta=never --output="$VMTEST_RESULTS/fio-$name.json" "$@" &&
    python3 "$here_lib/fio-summary.py" "$VMTEST_RESULTS/fio-$name.json"
}

# zc_test_handler_start NAME SIZE [MODE]: compiles tests/zc_test_handler.c
# and starts it in the background on backstore NAME (a ZC_TEST_NODE given
# on the call reaches it), its output in $WORK/zch.out and its pid in zch;
# returns once it serves.
zc_test_handler_start() {
  must "zc_test_handler compiles" gcc -O2 -Wall -pthread -o "$WORK/zc_test_handler" \
    "$VMTEST_TOP/kmod-patches/tests/zc_test_handler.c"
  "$WORK/zc_test_handler" "$@" > "$WORK/zch.out" 2>&1 &
  zch=$!
  wait_for "zc_test_handler to serve" 30 grep -q '^READY' "$WORK/zch.out" ||
    die "zc_test_handler" "not ready: $(cat "$WORK/zch.out")"
}

# zc_test_handler_stop: SIGTERM, wait for its "DONE" and print its output.
zc_test_handler_stop() {
  kill -TERM "$zch"
  wait "$zch" || true
  cat "$WORK/zch.out"
}

# zc_dmesg_clean [EXPECTED_ERE]: no oops, BUG, WARNING, KASAN, lockdep,
# page_table_check, list/data corruption or bad-page report, but for lines
# that match EXPECTED_ERE (a WARN a scenario provokes on purpose).
# page_table_check and BUG_ON_DATA_CORRUPTION (debug kernel) report with
# BUG_ON(): "kernel BUG at mm/page_table_check.c:N!" and "invalid opcode",
# no "BUG:" or "Oops".
zc_dmesg_clean() {
  local bad expected=${1:-^$}
  # On the --debug kernel, say that the checkers really ran.
  log "kernel checkers: $(dmesg | grep -oE 'KernelAddressSanitizer initialized|Lock dependency validator|page_table_check' |
    sort -u | paste -sd, - || true)"
  bad=$(dmesg | grep -E 'BUG:|BUG at|WARNING:|Oops|invalid opcode|KASAN|page_table_check.c|corruption|possible circular locking|possible recursive locking|inconsistent lock state|bad page|Bad page|general protection|page dumped because' |
    grep -vE -- "$expected" || true)
  if [ -n "$bad" ]; then
    echo "$bad" | head -20
    return 1
  fi
}

# zc_counter_grew BEFORE AFTER
zc_grew() { [ "$2" -gt "$1" ]; }
zc_same() { [ "$2" -eq "$1" ]; }
