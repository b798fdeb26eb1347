# shellcheck shell=bash
# The SCSI the handler answers itself (issue #15), seen from a Linux
# initiator: FUA reaching the paths, COMPARE AND WRITE atomic against WRITE.

TRACEFS=/sys/kernel/tracing

# bio_trace on|off: the block layer's block_bio_queue events, every device,
# recorded between on and off. The event is enabled from boot (trace_event=
# on the kernel command line) and only tracing_on flips here: enabling an
# event at run time patches kernel text on every CPU, and a TCG guest once
# hung there (the writing shell in a soft lockup, RCU stalls on the other CPU).
bio_trace() {
  mountpoint -q "$TRACEFS" || mount -t tracefs nodev "$TRACEFS"
  if [ "$1" = on ]; then
    [ "$(cat "$TRACEFS/events/block/block_bio_queue/enable")" = 1 ] ||
      die "block_bio_queue is not traced from boot (the scenario needs '# vmtest-append: trace_event=block:block_bio_queue')"
    echo > "$TRACEFS/trace"
    echo 1 > "$TRACEFS/tracing_on"
  else
    echo 0 > "$TRACEFS/tracing_on"
  fi
}

# fua_writes DEV...: the FUA writes the trace holds for these block devices
# (rwbs "W...F...": blk_fill_rwbs puts FUA's F after the W, a preflush's
# before it).
fua_writes() {
  local ids=() d
  for d in "$@"; do ids+=("$(stat -Lc '%Hr,%Lr' "$d")"); done
  awk -v ids=" ${ids[*]} " '{
    for (i = 1; i < NF; i++) if ($i == "block_bio_queue:") {
      if (index(ids, " " $(i + 1) " ") && $(i + 2) ~ /W[A-Z]*F/) n++
      break
    }
  } END { print n + 0 }' "$TRACEFS/trace"
}

# fua_writes_on_path LUN FLAGS PATH: 16 direct 4 KiB writes to LUN with dd's
# extra oflag FLAGS (dsync: the sd driver sends them with FUA when the LUN
# says DPOFUA=1); prints the FUA writes PATH got meanwhile.
fua_writes_on_path() {
  bio_trace on
  dd if=/dev/urandom of="$1" bs=4096 count=16 seek=64 oflag="direct$2" conv=notrunc status=none
  bio_trace off
  fua_writes "$3"
}

# fua_check: a one-path user:switch LUN whose path is itself a SCSI disk
# with a write cache (LIO fileio, emulate_write_cache=1, behind tcm_loop).
# The initiator sees DPOFUA=1 (sd's queue/fua), a FUA write reaches the
# path as a FUA write (the handler's RWF_DSYNC on an O_DIRECT block device)
# and a plain one reaches it as none. brd RAM disks cannot be the path: they
# have no write cache, and the block layer drops FUA for such a device
# before the trace sees it.
fua_check() {
  local size=$((16 << 20)) fb path sw lun with without
  truncate -s "$size" "$WORK/fua-path.img"
  fb=$(fileio_backstore fuapath "$WORK/fua-path.img" "$size")
  echo 1 > "$fb/attrib/emulate_write_cache"
  path=$(loop_lun "$fb")
  switch_config "$WORK/fua.conf" placement 128 "" "$path"
  sw=$(user_backstore fua0 "switch/$WORK/fua.conf" "$size")
  lun=$(loop_lun "$sw")
  check "the initiator sees DPOFUA=1 in MODE SENSE ($lun queue/fua)" \
    test "$(cat "/sys/block/$(basename "$lun")/queue/fua")" = 1
  with=$(fua_writes_on_path "$lun" ,dsync "$path")
  without=$(fua_writes_on_path "$lun" "" "$path")
  log "FUA writes on the path $path: $with for 16 FUA writes to $lun, $without for 16 plain ones"
  check "16 FUA writes reach the path as FUA writes ($with), 16 plain ones as none ($without)" \
    test "$with" -ge 16 -a "$without" = 0
  remove_loop_lun "$sw"
  remove_backstore "$sw"
  remove_loop_lun "$fb"
  remove_backstore "$fb"
}

# caw_race DEV_A DEV_B ROUNDS: two initiators (two tcm_loop nexuses of one
# LUN), one block. Each round the block holds X; A sends COMPARE AND WRITE
# X -> C while B writes W, at once. Whichever order the LUN takes them in,
# the block ends as W: C first then W, or W first and the compare fails. C
# at the end is a lost update: the CAW compared against X after W had been
# acknowledged, or W landed between its read and its write.
caw_race() {
  local a=$1 b=$2 rounds=$3 bsz lba=4096 i rc_a rc_b got written=0 miscompared=0 lost=0
  bsz=$(blockdev --getss "$a")
  head -c "$bsz" /dev/zero | tr '\0' x > "$WORK/caw-x"
  head -c "$bsz" /dev/zero | tr '\0' c > "$WORK/caw-c"
  head -c "$bsz" /dev/zero | tr '\0' w > "$WORK/caw-w"
  cat "$WORK/caw-x" "$WORK/caw-c" > "$WORK/caw-xc"
  for ((i = 0; i < rounds; i++)); do
    dd if="$WORK/caw-x" of="$a" bs="$bsz" seek=$lba count=1 oflag=direct conv=notrunc status=none
    sg_compare_and_write --in="$WORK/caw-xc" --lba=$lba --num=1 "$a" 2> /dev/null &
    local pid_a=$!
    dd if="$WORK/caw-w" of="$b" bs="$bsz" seek=$lba count=1 oflag=direct conv=notrunc status=none &
    local pid_b=$!
    rc_a=0 rc_b=0
    wait $pid_a || rc_a=$?
    wait $pid_b || rc_b=$?
    [ "$rc_b" = 0 ] || { fail "caw race" "round $i: WRITE on $b exited $rc_b"; return 1; }
    case $rc_a in
      0) written=$((written + 1)) ;;
      14) miscompared=$((miscompared + 1)) ;;  # SG_LIB_CAT_MISCOMPARE
      *) fail "caw race" "round $i: COMPARE AND WRITE on $a exited $rc_a"; return 1 ;;
    esac
    got=$(dd if="$a" bs="$bsz" skip=$lba count=1 iflag=direct status=none | head -c 1)
    [ "$got" = w ] || lost=$((lost + 1))
  done
  log "caw race: $rounds rounds, COMPARE AND WRITE written $written, miscompared $miscompared; lost updates $lost"
  check "COMPARE AND WRITE vs WRITE from two initiators: no lost update in $rounds rounds ($written written, $miscompared miscompared)" \
    test "$lost" = 0
}
