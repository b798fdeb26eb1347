# Guest helpers: fio workloads that verify every byte they write. Sourced by lib.sh (scenarios source lib.sh only);
# uses the reporting helpers of report.sh.

# ---- I/O ----------------------------------------------------------------------

# fio_verify NAME DEV SECONDS [FIO_OPTION...]: random writes of 36 KiB (not a
# divisor of any region size we use, so commands straddle region boundaries),
# each verified by crc32c, whose header carries the offset: data that lands
# on the wrong path or offset fails. JSON goes to $VMTEST_RESULTS/fio-NAME.json.
fio_verify() {
  local name=$1 dev=$2 secs=$3
  shift 3
  fio --name="$name" --filename="$dev" --ioengine=libaio --direct=1 --iodepth=16 \
    --rw=randwrite --bs=36k --verify=crc32c --verify_backlog=32 --verify_fatal=1 \
    --time_based --runtime="$secs" --output-format=json --eta=never \
    --output="$VMTEST_RESULTS/fio-$name.json" "$@" &&
    python3 "$here_lib/fio-summary.py" "$VMTEST_RESULTS/fio-$name.json"
}

# fio_fill NAME DEV: writes the whole device once, sequentially in 96 KiB
# commands (which straddle region boundaries), then reads it all back and
# verifies it. Afterwards every region holds fio data.
fio_fill() {
  local name=$1 dev=$2
  fio --name="$name" --filename="$dev" --ioengine=libaio --direct=1 --iodepth=16 \
    --rw=write --bs=96k --verify=crc32c --do_verify=1 --verify_fatal=1 \
    --output-format=json --eta=never --output="$VMTEST_RESULTS/fio-$name.json" &&
    python3 "$here_lib/fio-summary.py" "$VMTEST_RESULTS/fio-$name.json"
}
