#!/bin/bash
# Inside the test bed: valkey-load SETs and verifies keys of every size the issue names,
# over RDMA and over TCP, against the server under test.
#   io-threads 1: 1,000 keys each of 1 B, 16 KiB, 20 KiB and 1 MiB, and 20 keys of 10 MiB.
#   io-threads 4: the same up to 1 MiB. With IO threads, Valkey 9.1.2 corrupts or stalls
#   a reply that crosses the end of the client's RDMA receive buffer (measured here: a
#   16 KiB GET reply cut short right after the buffer's second recycle; a 1 MiB reply,
#   larger than the 1 MiB buffer, stalls; driver_faults.sh shows it). So at io-threads 4
#   the RDMA GETs use a receive buffer that holds all their replies without recycling,
#   and the 1 MiB values SET over RDMA are verified with GETs over TCP: what is under
#   test there is the data path, not the open bug (scenarios/large-reply.yaml is).
# Usage: driver_verify.sh BUILD_DIR [IO_THREADS]
set -u
build=$1
io_threads=${2:-1}
load=$build/drivers/valkey-load
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/server_lib.sh
. "$here/server_lib.sh"

failures=0
# valkey-load bounds its own waits (connect 20 s, stall 60 s); this bounds valkey-load, so
# that a wait it fails to bound is a named failure with the server's thread states, not a
# silent ctest time-out (one clean-clone CI run of session 5 timed out here after 1,200 s
# with no line printed). Each check prints its time.
LOAD_BOUND_S=${DRIVER_VERIFY_LOAD_BOUND_S:-300}
thread_states() { # PID: each thread's name, scheduler state and wait channel
    local task
    for task in /proc/"$1"/task/*; do
        echo "  thread $(cat "$task/comm" 2>/dev/null) state $(awk '{print $3}' "$task/stat" 2>/dev/null)" \
            "wchan $(cat "$task/wchan" 2>/dev/null)"
    done
}
run_bounded() { # OUTPUT_FILE ARGS...: valkey-load under timeout(1), its status in $status
    local out=$1
    shift
    # timeout(1) execs it: no polling loop to take CPU from the emulated test bed.
    timeout -k 5 "$LOAD_BOUND_S" "$load" "$@" > "$out" 2>&1
    status=$?
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        echo "valkey-load did not end within ${LOAD_BOUND_S} s (stopped); the server's threads:" >> "$out"
        thread_states "$server_process" >> "$out"
    fi
}
check() { # NAME EXPECTED_VERIFIED ARGS...
    local name=$1 expected=$2
    shift 2
    local output status started=$SECONDS
    # Connecting is bounded at 20 s, as under the harness's watchdog: what is under test
    # here is the data, and on a busy emulated host a handshake took over the default 5 s.
    run_bounded "$server_dir/load.out" --json --connect-timeout 20000 "$@"
    output=$(cat "$server_dir/load.out")
    local verified
    verified=$(printf '%s' "$output" | sed -n 's/.*"verified_gets": *\([0-9]*\).*/\1/p' | head -1)
    if [ "$status" -ne 0 ] || [ "${verified:-x}" != "$expected" ]; then
        echo "FAIL: $name: exit $status, verified ${verified:-none} of $expected ($((SECONDS - started)) s)"
        printf '%s\n' "$output" | grep -E '"error"|valkey-load|^the server|^  thread' | head -60
        failures=$((failures + 1))
    else
        echo "ok: $name: $expected verified ($((SECONDS - started)) s)"
    fi
}

# A server that stops answering even a TCP PING after a failed check has hung by itself:
# 9.1.2 with IO threads does so now and then (two clean-clone CI runs, sessions 5 and 6:
# all 4 RDMA connections 60 s without progress on 1 MiB and on 16 KiB SETs, then every
# later check failed, TCP too). That is the server's bug, not the driver's, and the CI
# gate judges the server; here it is reported with the threads' states and kernel
# stacks, and the pair of checks runs again once on a fresh server. A driver that fails
# against a server still answering, or a second hang, still fails the test.
server_hangs=0
MAX_SERVER_HANGS=2
server_wedged() { # true when the server under test does not answer PING over TCP
    local reply
    reply=$(timeout -k 2 10 "$VALKEY_CLI" -h 127.0.0.1 -p "$server_port" PING 2>&1)
    [ "$reply" != PONG ]
}
report_hang() {
    echo "SERVER HANG: the server under test stopped answering (TCP PING); its threads:"
    thread_states "$server_process"
    local task
    for task in /proc/"$server_process"/task/*; do
        echo "  kernel stack of $(cat "$task/comm" 2>/dev/null) ($(basename "$task")):"
        sed 's/^/    /' "$task/stack" 2>/dev/null | head -12
    done
}

# write_then_verify TRANSPORT_FOR_SET TRANSPORT_FOR_GET SIZE KEYS
write_then_verify() {
    local failures_before=$failures
    write_then_verify_once "$@"
    if [ "$failures" -gt "$failures_before" ] && [ "$server_hangs" -lt "$MAX_SERVER_HANGS" ] &&
        server_wedged; then
        report_hang
        server_hangs=$((server_hangs + 1))
        server_stop
        server_start "$io_threads" lazy || exit 125
        echo "RETRY on a fresh server (server hang $server_hangs of at most $MAX_SERVER_HANGS)"
        failures=$failures_before
        write_then_verify_once "$@"
    fi
}
write_then_verify_once() {
    local set_wire=$1 get_wire=$2 size=$3 keys=$4
    local prefix="verify-$io_threads-$set_wire-$size:"
    local common=(--connections 4 --pipeline 4 --sequential --keyspace "$keys" --requests "$keys"
        --key-prefix "$prefix" --value-size "$size" --stall 60)
    local get_options=()
    if [ "$io_threads" -gt 1 ] && [ "$get_wire" = rdma ]; then
        # Every reply of this connection fits without a recycle: keys/4 replies each.
        get_options=(--rx-buffer 32MiB)
    fi
    check "SET $keys x $size over $set_wire" 0 --transport "$set_wire" --host "$(host_for "$set_wire")" \
        "${common[@]}" --ratio 1:0
    check "GET $keys x $size over $get_wire (io-threads $io_threads)" "$keys" --transport "$get_wire" \
        --host "$(host_for "$get_wire")" "${common[@]}" "${get_options[@]}" --ratio 0:1 --verify \
        --keys-written-before
}

# IO threads on but not forced to poll: the data path is what is under test here, and
# four polling threads on the test bed's 2 vCPUs take the CPU the transfers need (this
# test took 311 s with them forced active). The CI gate forces them active.
server_start "$io_threads" lazy || exit 125
trap server_stop EXIT
for wire in rdma tcp; do
    for size in 1 16KiB 20KiB; do
        write_then_verify "$wire" "$wire" "$size" 1000
    done
    if [ "$io_threads" -eq 1 ] || [ "$wire" = tcp ]; then
        write_then_verify "$wire" "$wire" 1MiB 1000
    else
        write_then_verify rdma tcp 1MiB 1000
    fi
    if [ "$io_threads" -eq 1 ]; then
        write_then_verify "$wire" "$wire" 10MiB 20
    fi
done
# Not forced active, the IO threads must still have done reads and writes: otherwise
# this would be an io-threads 1 run under another name.
if [ "$io_threads" -gt 1 ]; then
    stats=$(timeout -k 2 10 "$VALKEY_CLI" -h 127.0.0.1 -p "$server_port" INFO stats 2>&1)
    reads=$(sed -n 's/^io_threaded_reads_processed:\([0-9]*\).*/\1/p' <<<"$stats")
    writes=$(sed -n 's/^io_threaded_writes_processed:\([0-9]*\).*/\1/p' <<<"$stats")
    if [ "${reads:-0}" -gt 0 ] && [ "${writes:-0}" -gt 0 ]; then
        echo "ok: the IO threads did ${reads} reads and ${writes} writes"
    else
        echo "FAIL: the IO threads did ${reads:-no} reads and ${writes:-no} writes (INFO stats)"
        failures=$((failures + 1))
    fi
fi
if [ "$failures" -ne 0 ]; then
    echo "FAIL: $failures check(s) failed"
    exit 1
fi
if [ "$server_hangs" -gt 0 ]; then
    echo "NOTE: the server under test hung $server_hangs time(s) (SERVER HANG above); every" \
        "check passed on a fresh server"
fi
echo "PASS: every value verified at io-threads $io_threads"
