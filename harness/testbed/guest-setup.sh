#!/bin/bash
# Runs as the first process of the test bed VM, inside the host's root (read-only, with
# a tmpfs overlay). It brings soft-RoCE up on a dummy netdev, runs the requested command
# with its output on the two virtio serial ports the host reads, writes the command's exit
# status into the run folder and powers the VM off.
#
# The command arrives as data, never as shell text: RUN_DIR/argv holds its arguments
# separated by NUL bytes, RUN_DIR/env the environment (NAME=value, NUL-separated) and
# RUN_DIR/cwd the working folder.
set -u
run_dir=$1
busybox=/bin/busybox

power_off() {
    sync
    $busybox poweroff -f
}
# This shell is the VM's first process: if it ever exits the kernel panics, so every
# way out powers off instead.
trap power_off EXIT

report_failure() {
    echo "testbed: $*" >&2
    echo 125 > "$run_dir/status"
    power_off
}

port_by_name() {
    local entry
    for entry in /sys/class/virtio-ports/*; do
        if [ "$(cat "$entry/name" 2>/dev/null)" = "$1" ]; then
            echo "/dev/${entry##*/}"
            return 0
        fi
    done
    return 1
}

# /tmp and /run stay on the overlay: the run folder itself may live under /tmp.
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
# devtmpfs has no /dev/fd family (udev makes them on a normal boot); bash's process
# substitution and many tools need them.
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
mount -t tmpfs tmpfs /dev/shm
# cgroup v2, for `compare --candidate-cpu-limit` (a server slowed on purpose). The host
# root is shared read-only, so the mount point may be missing: then the limit says so.
if [ -d /sys/fs/cgroup ]; then
    mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null || true
fi

out=$(port_by_name testbed.stdout) || report_failure "no stdout port"
err=$(port_by_name testbed.stderr) || report_failure "no stderr port"
exec 1>"$out" 2>"$err" </dev/null

# shellcheck source=/dev/null
. "$run_dir/config"   # TESTBED_ADDRESS, TESTBED_PREFIX, TESTBED_NETDEV, TESTBED_NETDEV_MTU, TESTBED_RDMA_DEVICE

ip link set lo up
modprobe dummy || report_failure "cannot load the dummy netdev module"
ip link add "$TESTBED_NETDEV" type dummy || report_failure "cannot create $TESTBED_NETDEV"
ip addr add "$TESTBED_ADDRESS/$TESTBED_PREFIX" dev "$TESTBED_NETDEV"
# A jumbo MTU lets rxe use its largest path MTU, 4096 (1024 under the default 1500).
ip link set "$TESTBED_NETDEV" mtu "$TESTBED_NETDEV_MTU" ||
    report_failure "cannot set the MTU of $TESTBED_NETDEV"
ip link set "$TESTBED_NETDEV" up
modprobe rdma_rxe || report_failure "cannot load rdma_rxe"
modprobe rdma_ucm || report_failure "cannot load rdma_ucm"
rdma link add "$TESTBED_RDMA_DEVICE" type rxe netdev "$TESTBED_NETDEV" ||
    report_failure "rdma link add $TESTBED_RDMA_DEVICE failed"
ulimit -l unlimited
ulimit -c 0

while IFS= read -r -d '' assignment; do
    name=${assignment%%=*}
    if [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
        export "$assignment"
    fi
done < "$run_dir/env"
export TESTBED_ADDRESS TESTBED_RDMA_DEVICE TESTBED_NETDEV
mapfile -d '' -t command < "$run_dir/argv"
cd "$(cat "$run_dir/cwd")" || report_failure "cannot enter the working folder"

"${command[@]}"
status=$?
echo "$status" > "$run_dir/status"
power_off
