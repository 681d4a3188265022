#!/bin/bash
# ./run.sh bench driver, inside the test bed: our valkey-load against Valkey's own
# valkey-benchmark --rdma, side by side in one run against one valkey-server
# (io-threads 2), alternating the two tools, plus ib_write_bw -R at the large sizes.
# Prints a table and ends with: ratio_min=X link_ratio_min=Y rss_ok=yes|no
# Figures are ratios measured in the same run; absolute numbers under emulation mean
# little. Every command is started from an argument list; nothing is evaluated.
set -u
build=$1
rounds=${BENCH_ROUNDS:-2}
load=$build/drivers/valkey-load
address=$TESTBED_ADDRESS
port=6390
work=$(mktemp -d)
server_pid=
cleanup() {
    stop_server
    pkill -KILL -x ib_write_bw 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# A fresh server for every cell: a cell that wedges or kills the server (deep pipelines
# with IO threads have, in the past) must not poison the cells after it. Its log is kept
# under results/ when something went wrong.
start_server() {
    stop_server
    rm -f "$work/serve.out"
    "$build/harness/valkey-rdma-harness" inside serve 2 "$port" "$work" > "$work/serve.out" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 600); do grep -q '^ready' "$work/serve.out" && return 0; sleep 0.1; done
    echo "bench: the server did not start"; cat "$work/serve.out"
    return 1
}
stop_server() {
    [ -z "$server_pid" ] && return
    kill -TERM "$server_pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=
}
keep_server_log() { # CELL
    local keep=${VALKEY_RDMA_HARNESS_ROOT:-.}/results/bench-driver-logs
    mkdir -p "$keep"
    cp "$work/server.log" "$keep/$(echo "$1" | tr ' =' '__').log" 2>/dev/null
    echo "bench: $1: a run failed; server log kept in $keep" >&2
}

median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

# ours OP SIZE CONNECTIONS PIPELINE REQUESTS -> "ops_per_s mb_per_s peak_rss_kib"
ours() {
    local ratio=1:0
    [ "$1" = get ] && ratio=0:1
    /usr/bin/time -f '%M' -o "$work/rss" "$load" --transport rdma --host "$address" \
        --port "$port" --connections "$3" --threads 2 --pipeline "$4" --requests "$5" \
        --keyspace 1000 --key-prefix "key:" --value-size "$2" --ratio "$ratio" --stall 60 \
        > "$work/ours.out" 2>&1
    # "throughput 1234.5 ops/s, 0.32 MB/s of values"
    awk -v rss="$(tail -n 1 "$work/rss")" '$1 == "throughput" {print $2, $4, rss}' "$work/ours.out"
}

# theirs OP SIZE CONNECTIONS PIPELINE REQUESTS -> ops_per_s
theirs() {
    "$VALKEY_BENCHMARK" --rdma -h "$address" -p "$port" -t "$1" -d "$2" -c "$3" --threads 2 \
        -P "$4" -n "$5" -r 1000 --csv -q 2> /dev/null |
        awk -F'"' 'NR>1 && $2 != "" {print $4; exit}'
}

# link SIZE -> MB/s of ib_write_bw -R over the same device. By iteration count (about
# 40 MB in all): its duration mode (-D) reports 0 iterations for 1 MB messages here.
link() {
    local bytes=$1
    local iterations=$(( 40000000 / bytes ))
    [ "$iterations" -lt 5 ] && iterations=5
    ib_write_bw -R -s "$bytes" -n "$iterations" -d "$TESTBED_RDMA_DEVICE" > "$work/bw-server" 2>&1 &
    local server=$!
    sleep 1
    timeout 60 ib_write_bw -R -s "$bytes" -n "$iterations" -d "$TESTBED_RDMA_DEVICE" "$address" \
        > "$work/bw-client" 2>&1
    wait "$server" 2>/dev/null
    # The row of results: size, iterations, peak, average (MiB/s), msg rate.
    awk -v s="$bytes" '$1 == s {printf "%.2f\n", $4 * 1.048576; exit}' "$work/bw-client"
}

printf '%-30s %12s %12s %7s %10s %10s %7s %10s\n' cell ours_ops/s vbench_ops/s ratio our_MB/s link_MB/s ratio peak_RSS
ratio_min=
link_ratio_min=
rss_ok=yes
run_cell() { # OP SIZE_BYTES CONNECTIONS PIPELINE REQUESTS WITH_LINK
    local op=$1 size=$2 connections=$3 pipeline=$4 requests=$5 with_link=$6
    local cell="$op ${size}B c=$connections P=$pipeline"
    start_server || exit 125
    if [ "$op" = get ]; then
        "$load" --transport rdma --host "$address" --port "$port" --connections 4 --pipeline 8 \
            --sequential --keyspace 1000 --requests 1000 --key-prefix "key:" --value-size "$size" \
            --ratio 1:0 > /dev/null 2>&1
    fi
    local ours_ops=() ours_mb=() theirs_ops=() peak=0
    for _ in $(seq 1 "$rounds"); do
        read -r o m r < <(ours "$op" "$size" "$connections" "$pipeline" "$requests")
        ours_ops+=("$o"); ours_mb+=("$m")
        [ "${r:-0}" -gt "$peak" ] && peak=$r
        theirs_ops+=("$(theirs "$op" "$size" "$connections" "$pipeline" "$requests")")
    done
    if ! kill -0 "$server_pid" 2>/dev/null || [ "${o:-0}" = 0 ] || [ -z "${theirs_ops[0]}" ]; then
        keep_server_log "$cell"
    fi
    stop_server
    local o t m ratio link_mb="-" link_ratio="-"
    o=$(printf '%s\n' "${ours_ops[@]}" | median)
    t=$(printf '%s\n' "${theirs_ops[@]}" | median)
    m=$(printf '%s\n' "${ours_mb[@]}" | median)
    ratio=$(awk -v a="$o" -v b="$t" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }')
    if [ "$with_link" = yes ]; then
        link_mb=$(link "$size")
        link_ratio=$(awk -v a="$m" -v b="$link_mb" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }')
        if [ -z "$link_ratio_min" ] || awk -v a="$link_ratio" -v b="$link_ratio_min" 'BEGIN { exit !(a < b) }'; then
            link_ratio_min=$link_ratio
        fi
    fi
    if [ -z "$ratio_min" ] || awk -v a="$ratio" -v b="$ratio_min" 'BEGIN { exit !(a < b) }'; then
        ratio_min=$ratio
    fi
    # Bound: connections x 2 x receive buffer (1 MiB) + 32 MiB, in KiB.
    local bound=$(( connections * 2 * 1024 + 32 * 1024 ))
    [ "$peak" -gt "$bound" ] && rss_ok=no
    printf '%-30s %12s %12s %7s %10s %10s %7s %8sMiB\n' \
        "$cell" "$o" "$t" "$ratio" "$m" "$link_mb" "$link_ratio" \
        "$(( peak / 1024 ))"
}

for op in set get; do
    for connections in 10 50; do
        for pipeline in 1 16; do
            requests=$(( pipeline == 1 ? 4000 : 20000 ))
            run_cell "$op" 256 "$connections" "$pipeline" "$requests" no
        done
    done
done
run_cell set 1000000 2 1 60 yes
run_cell set 10000000 2 1 8 yes
echo "ratio_min=$ratio_min link_ratio_min=$link_ratio_min rss_ok=$rss_ok"
