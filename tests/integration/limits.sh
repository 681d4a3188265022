#!/bin/bash
# Inside the test bed, by hand (not part of ./run.sh test: it takes minutes): the driver at
# the limits issue 6 names, each against a fresh server under test over RDMA:
#   connections-500  500 connections at once, 2 threads, 256 B values, verified
#   values-16mib     16 MiB values, 4 connections, pipeline 4, verified
#   pipeline-512     4 connections with 512 requests in flight each, verified
#   combined         500 connections, pipeline 512, 16 MiB SETs
#   connections-500-small-buffers  as connections-500, with 64 KiB receive buffers
# For each: valkey-load's exit status and results, its peak RSS (/usr/bin/time), the bound
# its design gives for that RSS, and the server's peak RSS. README, "Driver hygiene and
# limits", explains the bound and has the figures.
# Usage: ./run.sh exec -- tests/integration/limits.sh BUILD_DIR [CASE...]
set -u
build=$1
shift
cases=("$@")
[ "${#cases[@]}" -gt 0 ] || cases=(connections-500 values-16mib pipeline-512 combined)
load=$build/drivers/valkey-load
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/server_lib.sh
. "$here/server_lib.sh"
scratch=$(mktemp -d)
trap 'server_stop; rm -rf "$scratch"' EXIT

mib=$((1024 * 1024))
# The driver's memory by design (drivers/load_engine.h, drivers/transport_rdma.c), in MiB:
#   per connection: receive buffer (RX_MIB, 1 by default) + the 256 KiB send ring +
#   control slots and rxe queues (255 send and 511 receive work requests, a 766-entry CQ,
#   527 x 32 B of control slots: under 1) + while reading large replies, two of them (the
#   one handed over, the next being read);
#   per event loop: the 32 MiB output budget + one request, a 256 KiB read chunk;
#   plus the process itself (BASE_MIB: measured with one connection).
bound_mib() { # CONNECTIONS THREADS VALUE_BYTES READS_LARGE_REPLIES(0|1)
    local connections=$1 threads=$2 value=$3 replies=$4
    local value_mib=$(((value + mib - 1) / mib))
    local per_connection_kib=$((RX_MIB * 1024 + 256 + 1024 + 2 * replies * value_mib * 1024))
    echo $((BASE_MIB + connections * per_connection_kib / 1024 + threads * (32 + value_mib + 1)))
}

run_case() { # NAME IO_THREADS THREADS CONNECTIONS VALUE_BYTES READS_LARGE_REPLIES VALKEY_LOAD_ARGS...
    local name=$1 io_threads=$2 threads=$3 connections=$4 value=$5 replies=$6
    shift 6
    local value_bytes=$value
    case $value in *MiB) value_bytes=$((${value%MiB} * mib)) ;; esac
    RX_MIB=1
    case " $* " in *" --rx-buffer 64KiB "*) RX_MIB=0 ;; esac # 64 KiB: rounds to nothing
    server_start "$io_threads" || {
        echo "$name: the server under test did not start"
        return
    }
    local started status took
    started=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$scratch/rss" "$load" --json --transport rdma --host "$TESTBED_ADDRESS" \
        --threads "$threads" --connections "$connections" --connect-timeout 120000 --stall 120 \
        --value-size "$value" "$@" > "$scratch/out.json" 2> "$scratch/err"
    status=$?
    took=$((($(date +%s%N) - started) / 1000000))
    local server_peak
    server_peak=$(awk '/^VmHWM/ {print int($2 / 1024)}' "/proc/$server_process/status" 2>/dev/null)
    if ! kill -0 "$server_process" 2>/dev/null; then
        echo "$name: the server under test died during the run; its log ends:"
        tail -n 5 "$server_dir/server.log" 2>/dev/null | sed 's/^/    /'
        dmesg 2>/dev/null | grep -iE 'out of memory|oom-kill|killed process' | tail -n 3 | sed 's/^/    /'
    fi
    server_stop
    local rss_mib=$(($(tail -n 1 "$scratch/rss" 2>/dev/null || echo 0) / 1024))
    local summary
    summary=$(jq -r '"\(.replies) replies, \(.failed_connections) failed \(.errors | tostring), peak output/conn \([.connections[].peak_output_bytes] | max) B"' "$scratch/out.json" 2>/dev/null)
    printf '%-16s exit %-3s %7.1f s  driver peak RSS %5s MiB (bound %s MiB)  server peak RSS %s MiB  %s\n' \
        "$name" "$status" "$(awk -v ms="$took" 'BEGIN {print ms / 1000}')" "$rss_mib" \
        "$(bound_mib "$connections" "$threads" "$value_bytes" "$replies")" \
        "${server_peak:-?}" "${summary:-no results}"
    grep -v '^valkey-load: connection' "$scratch/err" | head -3
    grep '^valkey-load: connection' "$scratch/err" | head -3
}

# Calibration: the process with one connection, and what each of 32 more adds (default
# 1 MiB buffers, small values): the measured side of the per-connection term.
calibrate() {
    server_start 1 || return
    /usr/bin/time -f '%M' -o "$scratch/one" "$load" --transport rdma --host "$TESTBED_ADDRESS" \
        --connections 1 --requests 10 --value-size 1KiB > /dev/null 2>&1
    local one_status=$?
    /usr/bin/time -f '%M' -o "$scratch/many" "$load" --transport rdma --host "$TESTBED_ADDRESS" \
        --connections 33 --requests 330 --value-size 1KiB --connect-timeout 120000 > /dev/null 2>&1
    local many_status=$?
    server_stop
    local one many
    one=$(tail -n 1 "$scratch/one") many=$(tail -n 1 "$scratch/many")
    BASE_MIB=$(((one + 1023) / 1024))
    echo "calibration: 1 connection ${one} KiB (exit $one_status), 33 connections ${many} KiB" \
        "(exit $many_status): $(((many - one) / 32)) KiB per RDMA connection; BASE_MIB=$BASE_MIB"
}

echo "test bed memory: $(awk '/^MemTotal/ {print int($2 / 1024)}' /proc/meminfo) MiB"
calibrate
for name in "${cases[@]}"; do
    case $name in
    connections-500)
        run_case "$name" 1 2 500 256 0 --pipeline 1 --keyspace 1000 --requests 5000 --verify ;;
    connections-500-small-buffers)
        run_case "$name" 1 2 500 256 0 --pipeline 1 --keyspace 1000 --requests 5000 --verify \
            --rx-buffer 64KiB ;;
    values-16mib)
        run_case "$name" 1 1 4 16MiB 1 --pipeline 4 --keyspace 8 --requests 64 --verify ;;
    pipeline-512)
        run_case "$name" 1 1 4 256 0 --pipeline 512 --keyspace 1000 --requests 100000 --verify ;;
    combined)
        run_case "$name" 1 2 500 16MiB 0 --pipeline 512 --keyspace 8 --requests 100 --ratio 1:0 ;;
    *)
        echo "unknown case $name" ;;
    esac
done
