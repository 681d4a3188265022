# shellcheck shell=bash
# Shared by the integration scripts that take the test bed's link down (link_flap.sh,
# interrupt_inside.sh). Measured on rxe (Linux 6.1): an RDMA connection set up or torn
# down while the netdev is down leaves the rxe device unable to set up any new
# connection until the device is re-created, and it can only be re-created once no
# process holds it open (a holder makes `rdma link delete` wait in the kernel). These
# helpers tell whether the device still works and re-create it, so that the tests after
# a link flap in the same boot find a working test bed.
# Needs: $harness (valkey-rdma-harness), $load (valkey-load), TESTBED_NETDEV,
# TESTBED_RDMA_DEVICE, TESTBED_ADDRESS.
# shellcheck disable=SC2154 # $harness and $load come from the script that sources this
device_check_port=6399

# 0 when a fresh server accepts a fresh RDMA connection and answers it.
rdma_device_works() {
    local dir status=1 serve_pid waited=0
    dir=$(mktemp -d)
    "$harness" inside serve 1 "$device_check_port" "$dir" > "$dir/serve.out" 2>&1 &
    serve_pid=$!
    until grep -q '^ready' "$dir/serve.out" 2>/dev/null; do
        if ! kill -0 "$serve_pid" 2>/dev/null || [ "$waited" -ge 600 ]; then
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    if grep -q '^ready' "$dir/serve.out" 2>/dev/null; then
        "$load" --transport rdma --host "$TESTBED_ADDRESS" --port "$device_check_port" \
            --connections 1 --requests 4 --connect-timeout 5000 --stall 5 > "$dir/load.out" 2>&1
        status=$?
    fi
    kill -TERM "$serve_pid" 2>/dev/null
    wait "$serve_pid" 2>/dev/null
    rm -rf "$dir"
    return "$status"
}

# Re-creates the rxe device on the test bed's netdev (nothing may hold it open). The
# delete is bounded: a holder would make it wait for ever.
rdma_device_recreate() {
    ip link set "$TESTBED_NETDEV" up
    timeout 30 rdma link delete "$TESTBED_RDMA_DEVICE" &&
        rdma link add "$TESTBED_RDMA_DEVICE" type rxe netdev "$TESTBED_NETDEV"
}

# The link up and its port active: what every test after a flap needs.
link_is_up() {
    ip -o link show "$TESTBED_NETDEV" 2>/dev/null | grep -q '[<,]UP[,>]' &&
        grep -q ACTIVE "/sys/class/infiniband/$TESTBED_RDMA_DEVICE/ports/1/state" 2>/dev/null
}
