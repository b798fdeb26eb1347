# shellcheck shell=bash
# The SCSI the handler answers itself (issue #15), seen from a Linux
# initiator: FUA reaching the paths, COMPARE AND WRITE atomic against WRITE.

TRACEFS=/sys/kernel/tracing

# bio_trace on|off: the block layer's block_bio_queue events, every device.
bio_trace() {
  mountpoint -q "$TRACEFS" || mount -t tracefs nodev "$TRACEFS"
  if [ "$1" = on ]; then
    echo > "$TRACEFS/trace"
    echo 1 > "$TRACEFS/events/block/block_bio_queue/enable"
  else
    echo 0 > "$TRACEFS/events/block/block_bio_queue/enable"
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

# writes_reach_paths_with_fua DEV FLAGS PATH...: 16 direct 4 KiB writes to
# DEV with dd's extra oflag FLAGS (dsync: the sd driver sends them with
# FUA once the LUN says DPOFUA=1); prints the FUA writes the paths got.
writes_reach_paths_with_fua() {
  local dev=$1 flags=$2
  shift 2
  bio_trace on
  dd if=/dev/urandom of="$dev" bs=4096 count=16 seek=64 oflag="direct$flags" conv=notrunc status=none
  bio_trace off
  fua_writes "$@"
}

# fua_check DEV PATH...: the initiator sees DPOFUA=1 (sd's queue/fua), a FUA
# write reaches a path as a FUA write (the handler's RWF_DSYNC on an
# O_DIRECT block device), and a write without FUA reaches none as one. The
# paths are brd RAM disks, which have no write cache: the block layer drops
# FUA on such a device before the trace sees it, so they claim one meanwhile.
fua_check() {
  local dev=$1 p with without
  shift
  check "the initiator sees DPOFUA=1 in MODE SENSE ($dev queue/fua)" \
    test "$(cat "/sys/block/$(basename "$dev")/queue/fua")" = 1
  for p in "$@"; do echo "write back" > "/sys/block/$(basename "$p")/queue/write_cache"; done
  with=$(writes_reach_paths_with_fua "$dev" ,dsync "$@")
  without=$(writes_reach_paths_with_fua "$dev" "" "$@")
  for p in "$@"; do echo "write through" > "/sys/block/$(basename "$p")/queue/write_cache"; done
  log "FUA writes on the paths: $with for 16 FUA writes to $dev, $without for 16 plain ones"
  check "16 FUA writes reach the paths as FUA writes ($with), 16 plain ones as none ($without)" \
    test "$with" -ge 16 -a "$without" = 0
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
