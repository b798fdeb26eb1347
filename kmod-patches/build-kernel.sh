#!/bin/bash
# build-kernel.sh: build a QEMU guest kernel from Debian's linux-source-6.1
# with the kmod-patches series (target_core_user zero copy) applied.
#
#   kmod-patches/build-kernel.sh                 patched guest kernel (CI config)
#   kmod-patches/build-kernel.sh --debug         same, plus config/debug.config
#                                                (KASAN, DEBUG_VM, lockdep, ...)
#   kmod-patches/build-kernel.sh --stock         unpatched kernel, same config
#   kmod-patches/build-kernel.sh --check-series  build the affected objects of
#                                                every prefix of the series
#
# Layout under the build directory (default <repo>/.deps/kbuild, override with
# --dir or KBUILD_DIR; keep it out of /tmp, which the QEMU guest does not see):
#   linux-<version>-<variant>/  one tree per variant (ci, debug, stock, check),
#                    series applied with quilt (.pc/), built in place so that
#                    ccache hits across trees (no debug info: cwd not hashed)
#   ccache/          CCACHE_DIR unless set
# The last line printed is the path of the bzImage (not for --check-series).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
kbuild=${KBUILD_DIR:-$repo/.deps/kbuild}
variant=ci
check_series=0
jobs=$(nproc)

usage() {
	sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--debug) variant=debug ;;
	--stock) variant=stock ;;
	--check-series) check_series=1 ;;
	--dir) kbuild=$2; shift ;;
	-j) jobs=$2; shift ;;
	-h|--help) usage 0 ;;
	*) echo "build-kernel.sh: unknown argument '$1'" >&2; usage 2 ;;
	esac
	shift
done

log() { echo "build-kernel.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

tarball=/usr/src/linux-source-6.1.tar.xz
if [ ! -f "$tarball" ]; then
	log "$tarball missing: installing linux-source-6.1 with apt"
	sudo_cmd=""
	[ "$(id -u)" -eq 0 ] || sudo_cmd=sudo
	$sudo_cmd apt-get install -y linux-source-6.1 || die "cannot install linux-source-6.1"
fi
for tool in quilt gcc make flex bison bc; do
	command -v "$tool" >/dev/null || die "$tool not found: run scripts/setup.sh kernel"
done

mkdir -p "$kbuild"
export CCACHE_DIR=${CCACHE_DIR:-$kbuild/ccache}
cc=gcc
command -v ccache >/dev/null && cc="ccache gcc"

# Source tree: extract once, keep it.
version=$(tar -xJOf "$tarball" linux-source-6.1/Makefile |
	  awk '/^VERSION/{v=$3} /^PATCHLEVEL/{p=$3} /^SUBLEVEL/{s=$3} END{print v"."p"."s}')
[ "$check_series" -eq 0 ] || variant=check
src=$kbuild/linux-$version-$variant
if [ ! -f "$src/Makefile" ]; then
	log "extracting $tarball ($version) into $src"
	rm -rf "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xJf "$tarball" -C "$src.tmp" --strip-components=1
	mv "$src.tmp" "$src"
fi

# quilt records the patches directory in .pc/.quilt_patches and prefers it to
# QUILT_PATCHES: a tree first patched from another checkout (a worktree since
# removed) would fail with "No series file found". Point it at this checkout.
quilt_run() {
	[ ! -d "$src/.pc" ] || echo "$here" >"$src/.pc/.quilt_patches"
	(cd "$src" && QUILT_PATCHES="$here" QUILT_PC=.pc quilt --quiltrc=- "$@")
}

series_count() {
	grep -cvE '^[[:space:]]*(#|$)' "$here/series"
}

# Bring the tree to the first $1 patches of the series (all if $1 = all). The
# stamp hashes the patches' contents, not their paths, so another clone of the
# same series reuses the tree.
# quilt pop restores the files from .pc, so an edited patch can be re-applied.
apply_series() {
	local want=$1 stamp=$src/.tcmu-series.stamp state
	if [ "$want" = all ]; then
		want=$(series_count)
	fi
	# awk, not head: head would leave grep to die of SIGPIPE (pipefail)
	state="$want $(grep -vE '^[[:space:]]*(#|$)' "$here/series" |
		awk -v n="$want" 'NR <= n { print $1 }' |
		while read -r p; do sha256sum < "$here/$p"; done | sha256sum)"
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$state" ]; then
		return 0
	fi
	rm -f "$stamp"
	if [ -d "$src/.pc" ] && quilt_run applied >/dev/null 2>&1; then
		quilt_run pop -a -f -q >/dev/null
	fi
	if [ "$want" -gt 0 ]; then
		quilt_run push -q "$want" >/dev/null ||
			die "the series does not apply to linux-$version (see quilt output above)"
	fi
	echo "$state" >"$stamp"
	log "applied $want of $(series_count) patches to linux-$version"
}

# Configure the tree from tinyconfig plus the given fragments.
configure() {
	local out=$src frag
	make -s -C "$src" ARCH=x86_64 tinyconfig >/dev/null
	(cd "$src" && ARCH=x86_64 scripts/kconfig/merge_config.sh -m \
		.config "$@" >/dev/null)
	make -s -C "$src" ARCH=x86_64 olddefconfig >/dev/null
	# Every =y/=value line of the fragments must survive olddefconfig.
	for frag in "$@"; do
		grep -E '^CONFIG_' "$frag" | while read -r line; do
			grep -qxF "$line" "$out/.config" ||
				log "warning: $(basename "$frag"): '$line' did not survive olddefconfig"
		done
	done
}

if [ "$check_series" -eq 1 ]; then
	out=$src
	n=$(series_count)
	objs="drivers/target/target_core_user.o mm/memory.o"
	apply_series 0
	[ -f "$src/.config" ] || configure "$here/config/qemu-tcmu.config"
	make -s -C "$src" ARCH=x86_64 CC="$cc" -j"$jobs" prepare
	failed=0
	for k in $(seq 0 "$n"); do
		apply_series "$k"
		name="(stock)"
		[ "$k" -eq 0 ] || name=$(grep -vE '^[[:space:]]*(#|$)' "$here/series" | awk -v k="$k" 'NR == k')
		logf=$out/prefix-$k.log
		# shellcheck disable=SC2086
		if make -C "$src" ARCH=x86_64 CC="$cc" -j"$jobs" $objs >"$logf" 2>&1; then
			if grep -q 'warning:' "$logf"; then
				echo "WARN prefix $k $name: builds with warnings ($logf)"
				failed=1
			else
				echo "OK   prefix $k $name"
			fi
		else
			echo "FAIL prefix $k $name ($logf)"
			grep -E 'error|warning' "$logf" | head -20
			failed=1
		fi
	done
	apply_series all
	exit $failed
fi

case $variant in
stock) apply_series 0; frags=("$here/config/qemu-tcmu.config") ;;
ci) apply_series all; frags=("$here/config/qemu-tcmu.config" "$here/config/zc-tests.config") ;;
debug) apply_series all; frags=("$here/config/qemu-tcmu.config" "$here/config/zc-tests.config" "$here/config/debug.config") ;;
esac
out=$src

# Reconfigure only when a fragment changed, so incremental builds stay fast.
fragsum=$(cat "${frags[@]}" | sha256sum)
if [ ! -f "$out/.config" ] || [ "$(cat "$out/.fragments.sha" 2>/dev/null)" != "$fragsum" ]; then
	configure "${frags[@]}"
	echo "$fragsum" >"$out/.fragments.sha"
fi

log "building $variant kernel in $out (-j$jobs, CC=$cc)"
start=$(date +%s)
make -C "$src" ARCH=x86_64 CC="$cc" -j"$jobs" bzImage >"$out/build.log" 2>&1 ||
	{ tail -40 "$out/build.log" >&2; die "build failed, log: $out/build.log"; }
log "built in $(( $(date +%s) - start )) s: $(make -s -C "$src" kernelrelease)"
echo "$out/arch/x86/boot/bzImage"
