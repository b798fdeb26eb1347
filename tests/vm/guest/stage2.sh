#!/bin/sh
# Stage 2: PID 1 on the overlay root, run by the host's /bin/sh (dash).
# Gives the scenario the bits of a normal system that systemd/udev would add,
# runs it as root with bash, leaves its exit status in /run/share/rc, and
# powers off. The host takes the result from rc, never from qemu's status.

share=/run/share
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8

mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# bash process substitution and many tools need these.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
ip link set lo up

set -a
. "$share/test.env"
set +a

echo "stage2: $(cut -d' ' -f1 /proc/uptime) s: running $VMTEST_NAME"
# Our own limit, inside the host's: a hung scenario still leaves its logs.
timeout -k 10 "$VMTEST_GUEST_TIMEOUT" bash "$share/scenario.sh"
rc=$?
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
  echo "FAIL: $VMTEST_NAME: timed out after $VMTEST_GUEST_TIMEOUT s in the guest" |
    tee -a "$VMTEST_RESULTS/summary"
  dmesg > "$VMTEST_RESULTS/dmesg.txt"
  cp /run/vmtest/log/* "$VMTEST_RESULTS/" 2> /dev/null
  rc=124
fi
echo "stage2: $(cut -d' ' -f1 /proc/uptime) s: $VMTEST_NAME exited $rc"
echo "$rc" > "$share/rc"
sync
# Power-off is asynchronous; if PID 1 dies first, panic=-1 and -no-reboot
# end qemu anyway, and rc is already on the share. Power-off shuts devices
# down and can hang on a LUN whose handler no longer answers: then an
# immediate reboot, which -no-reboot turns into the end of qemu.
echo o > /proc/sysrq-trigger
sleep 10
echo b > /proc/sysrq-trigger
sleep 30
