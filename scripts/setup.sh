#!/usr/bin/env bash
# Installs everything tcmu-switch needs on a Debian 12 host, and fetches the
# sources it builds against but never commits (tcmu-runner's headers).
# Idempotent: re-running it installs only what is missing.
#
#   scripts/setup.sh [build|vm|kernel|all]...   (default: build vm)
#
#   build   compilers, libraries, GoogleTest/Benchmark, the tcmu source package
#   vm      QEMU, Debian's tcmu-runner, targetcli, open-iscsi, fio: the guest runs
#           the host's binaries over 9p, so they are installed on the host
#   kernel  what building the patched guest kernel (kmod-patches) needs
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
deps="${TCMU_SWITCH_DEPS:-$top/.deps}"

pkgs_build=(build-essential cmake ninja-build pkg-config git ca-certificates
  liburing-dev libglib2.0-dev liburcu-dev libnl-3-dev librbd-dev librados-dev libgtest-dev libgmock-dev googletest
  libbenchmark-dev clang libclang-rt-14-dev dpkg-dev xz-utils python3 python3-pytest
  dbus-daemon python3-pip python3-setuptools python3-wheel help2man lintian)
pkgs_vm=(qemu-system-x86 busybox-static kmod cpio gzip tcmu-runner fio lsscsi
  sg3-utils dbus targetcli-fb python3-rtslib-fb python3-configshell-fb open-iscsi
  libiscsi-bin iproute2 rdma-core ibverbs-utils python3-gi gnuplot-nox dmsetup man-db
  jq strace xxd e2fsprogs gcc libglib2.0-bin util-linux ceph-mon ceph-osd ceph-common uuid-runtime)
pkgs_kernel=(linux-source-6.1 bc bison flex libelf-dev libssl-dev ccache quilt
  dwarves rsync)

log() { printf 'setup: %s\n' "$*"; }

ensure_deb_src() {
  local f=/etc/apt/sources.list.d/tcmu-switch-src.sources
  [ -e "$f" ] && return 0
  log "adding deb-src entries ($f)"
  cat > "$f" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  rm -f "$deps/.apt-updated"
}

apt_updated=0
apt_update_once() {
  [ "$apt_updated" = 1 ] && return 0
  log "apt-get update"
  apt-get update -qq
  apt_updated=1
}

install_pkgs() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  apt_update_once
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# tcmu-runner's headers come from Debian's tcmu source package (there is no
# libtcmu-dev). They are unpacked under .deps/ and never committed.
fetch_tcmu_source() {
  local dir
  dir=$(ls -d "$deps"/tcmu-*/ 2>/dev/null | head -n1 || true)
  if [ -n "$dir" ] && [ -f "$dir/tcmu-runner.h" ]; then
    ln -sfn "$(basename "$dir")" "$deps/tcmu"
    return 0
  fi
  ensure_deb_src
  apt_update_once
  mkdir -p "$deps"
  log "fetching the tcmu source package into $deps"
  (cd "$deps" && apt-get source -qq tcmu >/dev/null)
  dir=$(ls -d "$deps"/tcmu-*/ | head -n1)
  ln -sfn "$(basename "$dir")" "$deps/tcmu"
}

main() {
  [ "$(id -u)" = 0 ] || { echo "setup: run as root (it uses apt-get)" >&2; exit 1; }
  local groups=("$@")
  [ ${#groups[@]} -eq 0 ] && groups=(build vm)
  ensure_deb_src
  for g in "${groups[@]}"; do
    case "$g" in
      build) install_pkgs "${pkgs_build[@]}"; fetch_tcmu_source ;;
      vm) install_pkgs "${pkgs_vm[@]}" ;;
      kernel) install_pkgs "${pkgs_kernel[@]}" ;;
      all) install_pkgs "${pkgs_build[@]}" "${pkgs_vm[@]}" "${pkgs_kernel[@]}"; fetch_tcmu_source ;;
      *) echo "setup: unknown group '$g' (build, vm, kernel, all)" >&2; exit 2 ;;
    esac
  done
  log "done"
}

main "$@"
