#!/usr/bin/env bash
# package: the .deb of this build (cpack in the build dir) installs into the
# guest's root (a RAM overlay), and with the source and build trees hidden a
# LUN is created with the installed targetcli following its own `help create`
# text, served by the installed handler from tcmu-runner's default directory,
# exported, fio-verified and inspected with the installed switchctl; its man
# pages render and its completion offers the subcommands. A live table edit
# survives a runner restart and a targetcli restoreconfig with persist = true,
# and does not without it. Purge then removes every file the package installed.
# vmtest-timeout: 900
. "$(dirname "$0")/lib.sh"

deb=$(ls "$VMTEST_BUILD"/tcmu-switch_*.deb 2> /dev/null | head -n1 || true)
[ -n "$deb" ] || die "the package" "no tcmu-switch_*.deb in $VMTEST_BUILD (run cpack -G DEB there)"
cp "$deb" "$WORK/"
deb=$WORK/$(basename "$deb")

target_up
ram_disks 3 65536                # placement: each path holds the whole 64 MiB LUN
# The man-db trigger would rebuild the whole index under emulation.
rm -f /var/lib/man-db/auto-update
must "dpkg -i $(basename "$deb")" dpkg -i "$deb"
dpkg -L tcmu-switch | while read -r f; do [ -d "$f" ] || echo "$f"; done > "$WORK/files"
pass "the package holds $(wc -l < "$WORK/files") files"

# From here on nothing of the trees is visible: only installed files can work.
# A tree under /tmp is itself a mount (the overlay run-guest shows it
# through): the empty tmpfs goes on top of it all the same.
for tree in "$VMTEST_TOP" "$VMTEST_BUILD"; do
  [ ! -d "$tree" ] || mount -t tmpfs tmpfs "$tree"
done
check "the source and build trees are hidden" test ! -e "$VMTEST_TOP/README.md"

# tcmu-runner from its default handler directory, where the package put ours.
start_installed_runner() {
  tcmu-runner -l "$WORK/log" &
  runner_pid=$!
  wait_for "tcmu-runner on the bus" 60 runner_on_bus || die "tcmu-runner" "did not take org.kernel.TCMUService1"
}
start_dbus
start_installed_runner
check "tcmu-runner loaded the installed handler" runner_log_has "Handler switch is registered"

switch_config "$WORK/pkg/lun0.conf" placement 128 "" /dev/ram0 /dev/ram1 /dev/ram2
targetcli /backstores/user:switch help create > "$WORK/help.txt" 2>&1 || true
check "help create tells what to type after cfgstring=" \
  grep -qF "cfgstring=<absolute path of a device config file>" "$WORK/help.txt"
# Exactly as the help says: cfgstring=<the path>, targetcli adds "switch/".
must "targetcli creates lun0 with cfgstring=$WORK/pkg/lun0.conf" targetcli_batch \
  "/backstores/user:switch create name=lun0 size=64M cfgstring=$WORK/pkg/lun0.conf hw_max_sectors=1024"
bs=$(ls -d "$TARGET"/core/user_*/lun0)
check "its dev_config is switch/<path>" grep -qF "Config: switch/$WORK/pkg/lun0.conf" "$bs/info"
dev=$(loop_lun "$bs")
# tcmu-runner's README writes its options before the path.
must "targetcli takes tcmu-runner's options before the path" targetcli_batch \
  "/backstores/user:switch create name=lun1 size=64M cfgstring=;tcmur_cmd_time_out=20;$WORK/pkg/lun0.conf" \
  "/backstores/user:switch delete lun1"
check "fio random write + verify on the installed handler" fio_verify package "$dev" 10
check "installed switchctl reads the live table" sh -c "switchctl --json lun0 table summary | grep -q '\"nr_paths\": 3'"
# The installed interface file describes what lun0's live object serves:
# the same methods with the same arguments.
same_methods() {
  python3 - "$@" << 'PY'
import sys
import xml.etree.ElementTree as ET
def methods(path):
    iface = ET.parse(path).find("interface[@name='org.tcmuswitch.Device1']")
    return sorted((m.get('name'), [(a.get('type'), a.get('direction')) for a in m.iter('arg')])
                  for m in iface.iter('method'))
installed, live = (methods(p) for p in sys.argv[1:])
sys.exit(0 if installed and installed == live else 1)
PY
}
gdbus introspect --system --xml --dest org.kernel.TCMUService1 \
  --object-path /org/kernel/TCMUService1/switch/lun0 > "$WORK/live.xml"
check "the installed org.tcmuswitch.Device1.xml is the interface lun0 serves" \
  same_methods /usr/share/dbus-1/interfaces/org.tcmuswitch.Device1.xml "$WORK/live.xml"

check "man switchctl renders" sh -c "MANPAGER=cat man switchctl 2> /dev/null | grep -q 'manage a live user:switch LUN'"
check "man switchtab renders" sh -c "MANPAGER=cat man switchtab 2> /dev/null | grep -q 'switchtab COMMAND'"
check "man targetcli-switch lists the LUN commands" \
  sh -c "MANPAGER=cat man targetcli-switch 2> /dev/null | grep -q 'SWITCH LUN COMMANDS'"
# completes WANT WORD...: completing the word after `switchctl WORD...` offers WANT.
completes() {
  local want=$1
  shift
  bash -c '. /usr/share/bash-completion/completions/switchctl
           COMP_WORDS=(switchctl "$@" ""); COMP_CWORD=$(($# + 1)); _switchctl
           printf "%s\n" "${COMPREPLY[@]}"' _ "$@" > "$WORK/offered"
  grep -qx -- "$want" "$WORK/offered"
}
check "completion offers the LUN names" completes lun0
check "completion offers switchctl's groups" completes table lun0
check "completion offers a group's actions" completes summary lun0 table

remove_loop_lun "$bs"
must "targetcli deletes lun0" targetcli_batch "/backstores/user:switch delete lun0"

# ---- a live table edit survives a restart only with persist = true ------------
for lun in keep lose; do
  switch_config "$WORK/pkg/$lun.conf" placement 128 "$lun.table" /dev/ram0 /dev/ram1 /dev/ram2
  printf '0:0\n' > "$WORK/pkg/$lun.table"  # region 1 follows round robin: path 1
done
sed -i 's/^\[device\]$/[device]\npersist=true/' "$WORK/pkg/keep.conf"
must "targetcli creates keep (persist = true) and lose" targetcli_batch \
  "/backstores/user:switch create name=keep size=64M cfgstring=$WORK/pkg/keep.conf" \
  "/backstores/user:switch create name=lose size=64M cfgstring=$WORK/pkg/lose.conf"
map_region1_to_path2() { switchctl keep table map 1 2 > /dev/null && switchctl lose table map 1 2 > /dev/null; }
# region1_on LUN PATH: the live table sends region 1 of LUN to PATH.
region1_on() {
  switchctl "$1" table save "$WORK/$1.bin" > /dev/null &&
    switchtab dump "$WORK/$1.bin" --expand | grep -x "1:$2" > /dev/null
}
must "switchctl sends region 1 to path 2 on both" map_region1_to_path2
check "keep's table file holds the edit" grep -q ":2" "$WORK/pkg/keep.table"
check "tcmu-runner exits 0 on SIGTERM" stop_runner
start_installed_runner
check "after a runner restart, persist = true kept the edit" region1_on keep 2
check "after a runner restart, persist = false did not" region1_on lose 1
must "switchctl sends region 1 to path 2 on both again" map_region1_to_path2
must "targetcli saveconfig, clearconfig, restoreconfig" targetcli_batch "saveconfig $WORK/saved.json" \
  "clearconfig confirm=True" "restoreconfig $WORK/saved.json"
check "after restoreconfig, persist = true kept the edit" region1_on keep 2
check "after restoreconfig, persist = false did not" region1_on lose 1
must "targetcli deletes keep and lose" targetcli_batch \
  "/backstores/user:switch delete keep" "/backstores/user:switch delete lose"
check "tcmu-runner exits 0 on SIGTERM" stop_runner

must "dpkg --purge tcmu-switch" dpkg --purge tcmu-switch
left=$(while read -r f; do [ ! -e "$f" ] || echo "$f"; done < "$WORK/files")
check "purge removed every file it installed${left:+ (left: $left)}" test -z "$left"
check "purge removed /etc/tcmu-switch and the byte-compiled files" \
  test ! -e /etc/tcmu-switch -a ! -e /usr/lib/python3/dist-packages/tcmu_switch_cli
