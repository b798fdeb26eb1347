# Host side, sourced by run-guest: the guest kernel and its stage-1 initramfs.
#
# Stock kernel: Debian bookworm's linux-image-6.1.0-<abi>-amd64, fetched with
# `apt-get download` and unpacked with `dpkg-deb -x` under $VM_CACHE (never
# installed on the host, never committed). Its drivers are modules, so the
# initramfs carries the few that stage 1 needs to reach the 9p root, and the
# guest gets the whole module tree for modprobe.
# Custom kernel (--kernel): a patched build with every driver built in and no
# modules; its initramfs carries no modules at all.
#
# Outputs (globals): VM_KERNEL (bzImage), VM_KVER and VM_MODDIR (empty when the
# kernel has no modules), VM_INITRD.

VM_CACHE="${VM_CACHE:-$top/.deps/vm}"
vm_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# What stage 1 needs before the 9p root is mounted, in load order.
vm_stage1_modules=(virtio_pci 9pnet_virtio 9p overlay)

# The ABI package moves with point releases, so ask apt which one the
# metapackage currently pulls in rather than pinning it.
vm_stock_package() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n1
}

vm_use_stock_kernel() {
  local pkg deb kdir
  pkg=$(vm_stock_package)
  [ -n "$pkg" ] || { echo "run-guest: apt-cache cannot resolve linux-image-amd64 (apt-get update?)" >&2; return 1; }
  mkdir -p "$VM_CACHE"
  deb=$(ls "$VM_CACHE/${pkg}_"*.deb 2>/dev/null | head -n1 || true)
  if [ -z "$deb" ]; then
    echo "run-guest: downloading $pkg" >&2
    (cd "$VM_CACHE" && apt-get download -q "$pkg" >&2)
    deb=$(ls "$VM_CACHE/${pkg}_"*.deb | head -n1)
  fi
  VM_KVER=${pkg#linux-image-}
  kdir="$VM_CACHE/$pkg"
  if [ ! -e "$kdir/lib/modules/$VM_KVER/modules.dep" ]; then
    echo "run-guest: unpacking $(basename "$deb")" >&2
    rm -rf "$kdir.partial"
    dpkg-deb -x "$deb" "$kdir.partial"
    # The .deb ships no modules.dep: its postinst runs depmod.
    depmod -b "$kdir.partial" "$VM_KVER"
    rm -rf "$kdir" && mv "$kdir.partial" "$kdir"
  fi
  VM_KERNEL="$kdir/boot/vmlinuz-$VM_KVER"
  VM_MODDIR="$kdir/lib/modules/$VM_KVER"
}

vm_use_custom_kernel() {
  VM_KERNEL=$(realpath "$1")
  [ -f "$VM_KERNEL" ] || { echo "run-guest: no kernel image at $1" >&2; return 1; }
  VM_KVER= VM_MODDIR=
}

# The stage-1 modules with their dependencies, in insmod order, de-duplicated.
# Built-in ones print no insmod line and are left out.
vm_stage1_module_files() {
  local m
  for m in "${vm_stage1_modules[@]}"; do
    modprobe -d "${VM_MODDIR%/lib/modules/*}" -S "$VM_KVER" --show-depends "$m"
  done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }'
}

# Builds (or reuses) the initramfs; the file name hashes everything it holds,
# so an edit to guest/init or another kernel gives a new image.
vm_build_initrd() {
  local mods=() key work m
  [ -z "$VM_MODDIR" ] || mapfile -t mods < <(vm_stage1_module_files)
  key=$( { cat "$vm_here/../guest/init" /bin/busybox; printf '%s\n' "$VM_KVER" "${mods[@]}"; } |
    sha256sum | cut -c1-16)
  VM_INITRD="$VM_CACHE/initramfs-$key.cpio.gz"
  [ -s "$VM_INITRD" ] && return 0
  mkdir -p "$VM_CACHE"
  work=$(mktemp -d "$VM_CACHE/initramfs.XXXXXX")
  mkdir -p "$work"/{bin,dev,proc,sys,lower,upper,newroot,modules}
  cp /bin/busybox "$work/bin/busybox"
  for m in sh mount umount mkdir insmod switch_root sleep cat echo ls poweroff; do
    ln -s busybox "$work/bin/$m"
  done
  install -m 755 "$vm_here/../guest/init" "$work/init"
  : > "$work/modules.list"
  for m in "${mods[@]}"; do
    cp "$m" "$work/modules/"
    basename "$m" >> "$work/modules.list"
  done
  (cd "$work" && find . | cpio -o -H newc --quiet | gzip -1) > "$VM_INITRD.partial"
  mv "$VM_INITRD.partial" "$VM_INITRD"
  rm -rf "$work"
}
