#!/bin/bash
# Inside the test bed: resource hygiene of the driver's transports (issue 6).
#  1. connection_churn opens and closes RDMA_CONNECTIONS RDMA and TCP_CONNECTIONS TCP
#     connections in one process, each with a verified SET and GET, and fails unless the
#     fds, the transport's RDMA objects and the kernel's count of them are back at the
#     baseline after every batch and at the end (see connection_churn.c).
#  2. The same program with one RDMA connection deliberately left open must fail and
#     name what that connection holds: the counts can see a leak.
# It also prints, as a figure and not a verdict, what the server under test kept of the
# connections it closed (Valkey 9.1.2 keeps a PD, a CQ and a completion channel fd per
# RDMA connection: README, "Driver hygiene and limits").
# Usage: connection_churn.sh BUILD_DIR [RDMA_CONNECTIONS [TCP_CONNECTIONS [AT_ONCE]]]
set -u
build=$1
rdma_connections=${2:-1000}
tcp_connections=${3:-200}
at_once=${4:-4}
churn=$build/tests/connection_churn
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/server_lib.sh
. "$here/server_lib.sh"
trap server_stop EXIT
failures=0

# What the kernel holds for PID, by rdma resource type; "?" when the tool cannot say.
kernel_count() { # TYPE PID
    rdma -j resource show "$1" 2>/dev/null | jq --argjson pid "$2" '[.[] | select(.pid == $pid)] | length' 2>/dev/null || echo "?"
}
server_figures() {
    echo "pd $(kernel_count pd "$server_process") cq $(kernel_count cq "$server_process")" \
        "qp $(kernel_count qp "$server_process") fds $(find "/proc/$server_process/fd" -mindepth 1 2>/dev/null | wc -l)"
}

server_start 1 || exit 125
server_before=$(server_figures)
started=$(date +%s%N)
# A hang must end the run, not the count: a second per connection is several times what
# one costs in the emulated test bed (about 0.4 s RDMA, 0.02 s TCP on a busy host).
"$churn" --rdma-host "$TESTBED_ADDRESS" --tcp-host 127.0.0.1 --rdma "$rdma_connections" \
    --tcp "$tcp_connections" --at-once "$at_once" \
    --deadline $((rdma_connections + tcp_connections + 60))
status=$?
took_ms=$((($(date +%s%N) - started) / 1000000))
if [ "$status" -ne 0 ]; then
    echo "FAIL: connection_churn exited $status after ${took_ms} ms"
    failures=$((failures + 1))
else
    echo "ok: $rdma_connections RDMA and $tcp_connections TCP connections, nothing leaked, ${took_ms} ms"
fi
echo "server under test, kernel objects and fds before: $server_before"
echo "server under test, after the $((rdma_connections + 1)) RDMA connections closed: $(server_figures)"

# 2. A planted leak must be seen. LeakSanitizer is off for this run only: the leaked
# connection is deliberate, and what is under test is that the counts name it.
output=$(ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 "$churn" \
    --rdma-host "$TESTBED_ADDRESS" --tcp-host 127.0.0.1 --rdma 2 --tcp 0 --at-once 1 --plant-leak 2>&1)
status=$?
at_end=$(sed -n '/^at the end/,$p' <<<"$output")
# One connection: an event channel and a completion channel (2 fds), 3 memory regions, one
# of everything else; the kernel also shows librdmacm's device PD, alive while a cm_id is.
expected='transport still holds: connections 1 event_channels 1 cm_ids 1 pds 1 mrs 3 comp_channels 1 cqs 1 qps 1'
if [ "$status" -ne 1 ] || ! grep -qF "$expected" <<<"$at_end" || ! grep -q 'leaked 2)' <<<"$at_end" ||
    ! grep -q 'kernel holds for this process: cm_id 1 pd 2 mr 3 cq 1 qp 1' <<<"$at_end"; then
    echo "FAIL: a connection left open was not reported as a leak (exit $status):"
    printf '%s\n' "$output"
    failures=$((failures + 1))
else
    echo "ok: a connection left open is caught (exit 1):"
    head -3 <<<"$at_end"
fi
[ "$failures" -eq 0 ] && echo "PASS: no fd, MR, QP, CQ, PD, cm_id or channel leaked" && exit 0
exit 1
