#!/usr/bin/env bash
# Builds Berth's test VM image: Debian's kernel, a busybox initramfs carrying the virtio, iso9660 and
# ext4 modules it needs (the kernel has them as modules), and a small ext2 data disk as qcow2.
# Under TCG it reaches userspace in seconds. Usage: build.sh OUTDIR. Idempotent: rebuilds only when
# the kernel or this directory changed.
set -euo pipefail
out=$1
here=$(cd "$(dirname "$0")" && pwd)
kernel=$(ls /boot/vmlinuz-* | sort -V | tail -n 1)
version=${kernel#/boot/vmlinuz-}
stamp="$version $(cat "$here/init" "$0" | sha256sum | cut -c1-16)"
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ]; then exit 0; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root"/{bin,dev,etc,lib/modules,proc,sys,mnt,tmp}
cp /bin/busybox "$root/bin/busybox"
cp "$here/init" "$root/init"
chmod 755 "$root/init"

# The modules and everything they depend on, in load order (dependencies first).
order=()
add() {
  local m=$1 dep file
  for seen in "${order[@]:-}"; do [ "$seen" = "$m" ] && return 0; done
  file=$(modinfo -k "$version" -F filename "$m" 2>/dev/null || true)
  case "$file" in "" | "(builtin)") return 0 ;; esac
  for dep in $(modinfo -k "$version" -F depends "$m" | tr ',' ' '); do add "$dep"; done
  order+=("$m")
  case "$file" in
    *.ko.xz) xz -dc "$file" >"$root/lib/modules/$m.ko" ;;
    *.ko.zst) zstd -qdc "$file" >"$root/lib/modules/$m.ko" ;;
    *) cp "$file" "$root/lib/modules/$m.ko" ;;
  esac
}
# ext4 asks for crc32c at mount time (a soft dependency modinfo does not list).
for m in virtio_pci virtio_net virtio_blk isofs crc32c_generic ext4 button evdev; do add "$m"; done
printf '%s\n' "${order[@]}" >"$root/etc/modules.order"

mkdir -p "$out"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.img"
truncate -s 64M "$work/data.raw"
mke2fs -q -F -t ext2 -L berth-data "$work/data.raw"
qemu-img convert -q -f raw -O qcow2 "$work/data.raw" "$work/disk.qcow2"
cp "$kernel" "$out/vmlinuz"
mv "$work/initrd.img" "$work/disk.qcow2" "$out/"
echo "$stamp" >"$out/stamp"
echo "built $out from $kernel with ${#order[@]} modules"
