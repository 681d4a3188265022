#!/bin/bash
# Inside the test bed: the driver meets an RDMA peer that speaks the protocol wrongly.
# bad_rdma_server accepts 8 connections; at its first request each of 4 of them sends a
# control message of 16 bytes, one of 64 bytes, one with an unknown opcode, or a write
# whose immediate passes the end of the buffer the client advertised; the other 4 serve
# SET and GET. valkey-load (the sanitizer build) must name each bad connection and its
# fault, count it as a protocol error, carry the other connections to the end of the run
# with every reply verified, exit 1, and finish within a bound.
# Usage: bad_peer.sh BUILD_DIR
set -u
build=$1
load=$build/drivers/valkey-load
bad_server=$build/tests/bad_rdma_server
port=7390
plan=good,short-message,good,unknown-opcode,good,overflow,good,long-message
requests=400
# Everything here takes a few seconds; these bounds only turn a hang into a failure. The
# connect bound is generous because the test bed may be an emulated VM on a busy host.
load_bound_seconds=120
listen_bound_tenths=300
scratch=$(mktemp -d)
server_pid=
stop_bad_server() {
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null
        for _ in $(seq 1 50); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
        server_pid=
    fi
}
trap 'stop_bad_server; rm -rf "$scratch"' EXIT
# shellcheck source=tests/integration/check_lib.sh
. "$(dirname "$0")/check_lib.sh"

"$bad_server" "$TESTBED_ADDRESS" "$port" "$plan" 300 > "$scratch/server.out" 2>&1 &
server_pid=$!
for ((i = 0; i < listen_bound_tenths; i++)); do
    grep -q '^listening' "$scratch/server.out" && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if ! grep -q '^listening' "$scratch/server.out"; then
    echo "bad_rdma_server did not start:"
    cat "$scratch/server.out"
    exit 125
fi

started=$(date +%s%N)
timeout --kill-after=5 "$load_bound_seconds" "$load" --json --transport rdma --host "$TESTBED_ADDRESS" \
    --port "$port" --connections 8 --pipeline 4 --requests "$requests" --value-size 100 \
    --keyspace 16 --verify --stall 20 --connect-timeout 30000 > "$scratch/load.json" 2> "$scratch/load.err"
status=$?
took_ms=$((($(date +%s%N) - started) / 1000000))
stop_bad_server
echo "valkey-load against the bad peer: exit $status after ${took_ms} ms; its error lines:"
cat "$scratch/load.err"

if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    fail "valkey-load was still running after ${load_bound_seconds} s"
elif [ "$status" -ne 1 ]; then
    fail "valkey-load exited $status, not 1"
fi
if grep -q 'Sanitizer' "$scratch/load.err"; then
    fail "a sanitizer reported an error in valkey-load"
fi
if ! jq -e . "$scratch/load.json" > /dev/null 2>&1; then
    fail "valkey-load printed no results JSON"
    cat "$scratch/load.json"
    exit 1
fi
results() { jq -r "$1" "$scratch/load.json"; }

# Each fault once, on its own connection, named, in the results and on stderr.
prefix="connection [0-7] \\(rdma $TESTBED_ADDRESS:$port\\): rdma $TESTBED_ADDRESS:$port: "
for fault in 'control message is not 32 bytes \(16 bytes, opcode 3\)' \
    'control message has an unknown opcode \(32 bytes, opcode 127\)' \
    'server wrote [0-9]+ bytes at offset [0-9]+, past the end of our 1048576-byte buffer' \
    'a message from the server did not fit a 32-byte receive'; do
    in_results=$(results '.connections[] | select(.error_class == "protocol") | .error' | grep -cE "^$prefix$fault")
    on_stderr=$(grep -cE "^valkey-load: $prefix$fault" "$scratch/load.err")
    if [ "$in_results" -ne 1 ] || [ "$on_stderr" -ne 1 ]; then
        fail "fault /$fault/: $in_results connections in the results and $on_stderr lines on stderr, not 1 and 1"
    fi
done
[ "$(results .failed_connections)" = 4 ] || fail "failed_connections is $(results .failed_connections), not 4"
[ "$(results .errors.protocol)" = 4 ] || fail "errors.protocol is $(results .errors.protocol), not 4"

# The good ones carried on to the end: done, every request answered and the GETs verified,
# and between them every request the bad ones did not take.
good=$(results '[.connections[] | select(.state == "done" and .error_class == "none" and .replies == .requests_sent and .replies > 0)] | length')
[ "$good" = 4 ] || fail "$good connections finished cleanly, not 4"
lost=$(results '[.connections[] | select(.state == "failed") | .requests_sent] | add // 0')
[ "$(results .replies)" -eq $((requests - lost)) ] ||
    fail "$(results .replies) replies; expected $requests requests less the $lost the bad connections took"
[ "$(results .verified_gets)" -gt 0 ] || fail "no GET was verified on the good connections"

# The peer did misbehave as planned (and the driver's hang-ups ended its connections).
if ! grep -q 'short-message 1 long-message 1 unknown-opcode 1 overflow 1' "$scratch/server.out"; then
    fail "bad_rdma_server did not perform each fault once:"
    cat "$scratch/server.out"
fi

if [ "$failures" -eq 0 ]; then
    echo "PASS: 4 bad connections named and counted as protocol errors, 4 good ones finished" \
        "($(results .replies) replies, $(results .verified_gets) GETs verified), exit 1, ${took_ms} ms"
    exit 0
fi
echo "bad_rdma_server said:"
cat "$scratch/server.out"
exit 1
