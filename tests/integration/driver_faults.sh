#!/bin/bash
# Inside the test bed: the driver never hangs.
#  1. The server is SIGKILLed mid-run: valkey-load ends within 5 s, non-zero, with a
#     message that names the connection.
#  2. GET replies larger than the client's receive buffer with IO threads hit the open
#     9.1.2 bug: a connection with requests outstanding and no progress for the stall
#     bound is reported by name (or its corrupted reply is), the run ends non-zero
#     within that bound, and every connection's results are kept. The bug is
#     intermittent, so up to ATTEMPTS runs are made; if none hits it, the test fails
#     loudly: the bug no longer reproduces and this test must be revisited.
# Usage: driver_faults.sh BUILD_DIR
set -u
build=$1
load=$build/drivers/valkey-load
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/server_lib.sh
. "$here/server_lib.sh"
trap server_stop EXIT
failures=0
now_ms() { date +%s%3N; }

# 1. SIGKILL mid-run.
server_start 1 || exit 125
output_file=$(mktemp)
"$load" --transport rdma --host "$TESTBED_ADDRESS" --connections 4 --duration 60 --requests 0 \
    --value-size 1KiB --pipeline 4 > "$output_file" 2>&1 &
load_pid=$!
sleep 3
killed_at=$(now_ms)
kill -KILL "$server_process"
status=124
for _ in $(seq 1 100); do
    if ! kill -0 "$load_pid" 2>/dev/null; then
        wait "$load_pid"
        status=$?
        break
    fi
    sleep 0.1
done
ended_ms=$(( $(now_ms) - killed_at ))
kill -KILL "$load_pid" 2>/dev/null
server_stop
if [ "$status" -eq 124 ] || [ "$ended_ms" -gt 5000 ]; then
    echo "FAIL: valkey-load still ran ${ended_ms} ms after the server was killed"
    failures=$((failures + 1))
elif [ "$status" -eq 0 ]; then
    echo "FAIL: valkey-load exited 0 after the server was killed"
    failures=$((failures + 1))
elif ! grep -q 'FAILED     connection [0-9] (rdma ' "$output_file"; then
    echo "FAIL: no failure line naming a connection:"
    cat "$output_file"
    failures=$((failures + 1))
else
    echo "ok: server killed; valkey-load ended in ${ended_ms} ms with exit $status:"
    grep FAILED "$output_file" | head -2
fi
rm -f "$output_file"

# 2. The open large-reply bug.
attempts=6
stall_seconds=8
size=10MB
hit=0
for attempt in $(seq 1 $attempts); do
    server_start 2 || exit 125
    prefix="large-$attempt:"
    "$load" --transport rdma --host "$TESTBED_ADDRESS" --connections 2 --sequential --keyspace 4 \
        --requests 4 --key-prefix "$prefix" --value-size "$size" --ratio 1:0 > /dev/null 2>&1
    started=$(now_ms)
    output=$("$load" --json --transport rdma --host "$TESTBED_ADDRESS" --connections 2 --sequential \
        --keyspace 4 --requests 12 --key-prefix "$prefix" --value-size "$size" --ratio 0:1 \
        --verify --keys-written-before --stall "$stall_seconds" 2>&1)
    status=$?
    took=$(( $(now_ms) - started ))
    server_stop
    connections=$(grep -c '"name": "connection ' <<<"$output")
    if [ "$status" -ne 0 ] && grep -qE 'connection [0-9] \(rdma [^)]*\): (no progress for|RESP byte|GET )' <<<"$output"; then
        hit=1
        echo "ok: attempt $attempt hit the open bug; run ended in ${took} ms, exit $status:"
        grep -oE '"error": "connection [^"]*"' <<<"$output" | head -2
        # Each connection is failed as soon as it has waited the stall bound (a second of
        # sampling slack), and the whole run stays far below the replies it would have
        # taken plus that bound.
        waited=$(grep -oE 'no progress for [0-9.]+ s' <<<"$output" | grep -oE '[0-9.]+' | sort -n | tail -1)
        if [ -n "$waited" ] && awk -v w="$waited" -v b="$stall_seconds" 'BEGIN { exit !(w > b + 1) }'; then
            echo "FAIL: a stalled connection was reported after ${waited} s, bound ${stall_seconds} s"
            failures=$((failures + 1))
        fi
        if [ "$took" -gt 60000 ]; then
            echo "FAIL: the run took ${took} ms"
            failures=$((failures + 1))
        fi
        if [ "$connections" -ne 2 ]; then
            echo "FAIL: the results hold $connections connections, not 2"
            failures=$((failures + 1))
        fi
        break
    fi
    echo "note: attempt $attempt did not hit the bug (exit $status)"
done
if [ "$hit" -eq 0 ]; then
    echo "FAIL: $attempts attempts never hit the open large-reply bug: it may be fixed; revisit this test"
    failures=$((failures + 1))
fi
[ "$failures" -eq 0 ] && echo "PASS: the driver never hung and named the connections"
exit $((failures > 0))
