#!/bin/bash
# Provisions the test bed's kernel: Debian's kernel package (it has rdma_rxe, 9p and
# virtio as modules), unpacked without installing, its module index built, and an
# initramfs of busybox, the handful of modules needed to mount the host's root, and
# guest-init.
#
# Usage: provision-kernel.sh CACHE_DIR
# Prints the ready kernel folder (holding vmlinuz, initramfs.cpio.gz, modules/, release)
# on its last line. A folder is trusted only once its "complete" stamp exists; it is
# built under a temporary name and renamed into place, so an interrupted run leaves
# nothing a later run would trust.
set -euo pipefail
cache_dir=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kernel_package=linux-image-amd64

candidate=$(apt-cache depends "$kernel_package" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [ -z "$candidate" ]; then
    echo "provision-kernel: no $kernel_package in the package index (run apt-get update?)" >&2
    exit 125
fi
release=${candidate#linux-image-}
target="$cache_dir/kernel/$release"
if [ -f "$target/complete" ] && [ "$here/guest-init" -ot "$target/complete" ]; then
    echo "$target"
    exit 0
fi

echo "testbed: fetching and unpacking kernel $release (first run only)" >&2
mkdir -p "$cache_dir/kernel"
work=$(mktemp -d "$cache_dir/kernel/.partial-XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -q "$candidate" >/dev/null 2>&1) || {
    echo "provision-kernel: cannot download $candidate" >&2
    exit 125
}
dpkg -x "$work"/linux-image-*.deb "$work/root"
depmod -b "$work/root" "$release"
mkdir -p "$work/kernel"
mv "$work/root/boot/vmlinuz-$release" "$work/kernel/vmlinuz"
mv "$work/root/lib/modules/$release" "$work/kernel/modules"
echo "$release" > "$work/kernel/release"

initramfs="$work/initramfs"
mkdir -p "$initramfs/bin" "$initramfs/modules"
cp /bin/busybox "$initramfs/bin/busybox"
cp "$here/guest-init" "$initramfs/init"
# Every module the initramfs needs, with its dependencies first, in the order
# modules.dep implies (a module's dependencies are listed there nearest-first).
wanted="virtio_pci virtio_console 9pnet_virtio 9p overlay"
load_order=$(awk -v wanted="$wanted" '
    function base(path) { sub(/.*\//, "", path); sub(/\.ko.*/, "", path); return path }
    { name = base($1); sub(/:$/, "", $1); file[name] = $1; deps[name] = ""
      for (i = NF; i >= 2; i--) deps[name] = deps[name] " " base($i) }
    function visit(name,   list, n, j) {
        if (seen[name]++) return
        if (!(name in file)) { print "MISSING " name; return }
        n = split(deps[name], list, " ")
        for (j = 1; j <= n; j++) visit(list[j])
        print name " " file[name]
    }
    END { n = split(wanted, w, " "); for (i = 1; i <= n; i++) visit(w[i]) }
' "$work/kernel/modules/modules.dep")
if grep -q '^MISSING' <<<"$load_order"; then
    echo "provision-kernel: kernel $release lacks: $(grep '^MISSING' <<<"$load_order" | tr '\n' ' ')" >&2
    exit 125
fi
while read -r module file; do
    case "$file" in
    *.xz) xz -dc "$work/kernel/modules/$file" > "$initramfs/modules/$module.ko" ;;
    *.zst) zstd -dcq "$work/kernel/modules/$file" > "$initramfs/modules/$module.ko" ;;
    *) cp "$work/kernel/modules/$file" "$initramfs/modules/$module.ko" ;;
    esac
    echo "$module" >> "$initramfs/modules/load-order"
done <<<"$load_order"
(cd "$initramfs" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/kernel/initramfs.cpio.gz"
touch "$work/kernel/complete"
rm -rf "$target"
mv "$work/kernel" "$target"
echo "$target"
