#!/bin/bash
# Inside the test bed: start a Valkey server with RDMA, prove both transports against it
# with transport_ping, stop the server. Every check must pass.
#
# usage: transport_ping_inside.sh TRANSPORT_PING VALKEY_SERVER [VALKEY_RDMA_SO]
#   The server listens on TCP 127.0.0.1:6379 and RDMA ADDR:6379, where ADDR is the first
#   IPv4 address of the rxe device's netdev. SERVER_ARGS adds server arguments
#   (e.g. SERVER_ARGS="--io-threads 4 --io-threads-always-active yes").
# shellcheck disable=SC2317 # stop_server runs from the EXIT trap
set -u
ping_bin=$1 server=$2 module=${3:-}
port=6379
# The server gets this long to start answering PING, in tenths of a second.
start_bound_tenths=100

netdev=$(rdma link show 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "netdev") {print $(i+1); exit}}')
addr=$(ip -4 -o addr show dev "${netdev:-none}" 2>/dev/null | awk '{split($4, a, "/"); print a[1]; exit}')
[ -n "$addr" ] || { echo "FAIL: no IPv4 address on an RDMA netdev (is this the test bed?)"; exit 1; }

work=$(mktemp -d)
load=()
[ -n "$module" ] && load=(--loadmodule "$module")
# shellcheck disable=SC2086
"$server" --port $port --bind 127.0.0.1 "${load[@]}" --rdma-bind "$addr" --rdma-port $port \
    --protected-mode no --save '' --dir "$work" --daemonize no ${SERVER_ARGS:-} \
    > "$work/server.log" 2>&1 &
server_pid=$!
# A server that has not exited 5 s after SIGTERM gets SIGKILL: the wait stays bounded.
stop_server() {
    kill "$server_pid" 2>/dev/null
    for ((t = 0; t < 50; t++)); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap stop_server EXIT

for ((i = 0; i < start_bound_tenths; i++)); do
    "$ping_bin" tcp 127.0.0.1 $port 0 1000 >/dev/null 2>&1 && break
    sleep 0.1
done

failures=0
check() {
    echo "== transport_ping $*"
    "$ping_bin" "$@" || { echo "FAIL: transport_ping $*"; failures=$((failures + 1)); }
}
check tcp 127.0.0.1 $port 100000
check rdma "$addr" $port 1000
check rdma "$addr" $port 0
check rdma "$addr" $port 10000000 60000           # crosses each 1 MiB buffer 9 times
check rdma "$addr" $port 1000000 20000 65536      # a 64 KiB buffer: 15 recycles
check rdma "$addr" $port 100 10000 0 1 7000       # idle 7 s: keepalives arrive
check rdma "$addr" $port 1000 60000 0 100         # 100 connections, nothing left live
echo "== no listener: must fail in one line"
if "$ping_bin" rdma "$addr" $((port + 1)) 0 10000; then
    echo "FAIL: a connection to a port nobody listens on succeeded"
    failures=$((failures + 1))
fi
[ "$failures" -eq 0 ] && echo "PASS: both transports carried PING, SET and GET" && exit 0
echo "FAIL: $failures checks failed; server log tail:"
tail -n 20 "$work/server.log"
exit 1
