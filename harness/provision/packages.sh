#!/bin/bash
# Installs the Debian packages this project needs, only those missing, saying what it
# does. Idempotent: a second run checks and installs nothing.
# Usage: packages.sh [--check]   (--check: list what is missing, exit 1 if anything is)
set -euo pipefail
packages=(
    build-essential cmake pkg-config clang libclang-rt-14-dev jq time procps
    rdma-core ibverbs-utils rdmacm-utils perftest libibverbs-dev librdmacm-dev
    libcmocka-dev libyaml-dev libjansson-dev gnuplot-nox
    qemu-system-x86 busybox-static cpio kmod iproute2 xz-utils gdb
    dpkg-dev
)
missing=()
for package in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
    if [ "$status" != "installed" ]; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "${1:-}" = "--check" ]; then
    echo "missing packages: ${missing[*]}"
    exit 1
fi
echo "provision: installing ${missing[*]}" >&2
as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
        echo "provision: packages missing (${missing[*]}) and not root, no sudo" >&2
        exit 125
    fi
    as_root=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
if ! "${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
    echo "provision: refreshing the package index and retrying" >&2
    "${as_root[@]}" apt-get update -q >&2 || true
    "${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || {
        echo "provision: cannot install ${missing[*]}" >&2
        exit 125
    }
fi
