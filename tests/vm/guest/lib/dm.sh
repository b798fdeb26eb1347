# Guest helpers: device-mapper paths, for fault injection. Sourced by lib.sh (scenarios source lib.sh only);
# uses the reporting helpers of report.sh.

# ---- device-mapper paths, for fault injection ----------------------------------

# No udev in the guest: libdevmapper then makes the /dev/mapper nodes itself
# instead of waiting for udev to confirm them.
dm() { DM_DISABLE_UDEV=1 dmsetup "$@"; }

# dm_path NAME DEV: /dev/mapper/NAME, a dm-linear map of the whole of DEV, to
# use as a path that dm_fail and dm_heal can break and mend under I/O without
# touching the data beneath; prints it.
dm_path() {
  load_modules dm_mod
  dm create "$1" --table "0 $(blockdev --getsz "$2") linear $2 0"
  [ -b "/dev/mapper/$1" ] || die "$VMTEST_NAME" "dmsetup create $1 made no /dev/mapper/$1"
  echo "/dev/mapper/$1"
}

# dm_swap NAME TABLE: loads TABLE and makes it live; resume suspends the map
# first, waiting for its in-flight I/O, so the swap is atomic for the path.
dm_swap() {
  dm load "$1" --table "$2"
  dm resume "$1"
}

# dm_fail NAME: every I/O to the path now fails with EIO (dm-error).
dm_fail() { dm_swap "$1" "0 $(blockdev --getsz "/dev/mapper/$1") error"; }

# dm_heal NAME DEV: the path reaches DEV again.
dm_heal() { dm_swap "$1" "0 $(blockdev --getsz "$2") linear $2 0"; }

dm_remove() { dm remove "$@"; }
