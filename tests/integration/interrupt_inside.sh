#!/bin/bash
# Inside the test bed: SIGINT or SIGTERM at seeded random moments of
# `valkey-rdma-harness inside run`, COUNT times in one boot. After every interruption:
#  - the harness exits within 60 s with 130 (or had already ended on its own before the
#    signal, with its own code), and no process of ours is left (valkey-server, gdb, the
#    harness);
#  - the test bed's link is up with its rxe port ACTIVE (a signal during a link flap must
#    not leave it down), and no netdev or rxe link other than the test bed's exists;
#  - every summary.json parses and holds exactly the cases the harness reported as
#    finished, and no temporary or half-written file of ours is left in the results.
# The schedule is printed with its seed; INTERRUPT_SEED=N replays it.
# Usage: interrupt_inside.sh HARNESS VALKEY_LOAD COUNT SCENARIO...
set -u
harness=$1
load=$2
count=$3
shift 3
scenarios=("$@")
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/rdma_device_lib.sh
. "$here/rdma_device_lib.sh"
# Signals land uniformly in [0.2 s, LATEST_MS] after the harness printed its first line
# (a sanitizer build takes seconds to start under emulation; a signal before that only
# finds nothing started). Each run starts with another of the scenario files, whose
# fault or read-back comes 2 to 6 s in, so the signals cover server start, connection
# setup, the load, the fault, the stacks, the read-back and the teardown.
latest_ms=8000
seed=${INTERRUPT_SEED:-$(date +%s)}
RANDOM=$seed
echo "seed: $seed (replay: INTERRUPT_SEED=$seed)"
scratch=$(mktemp -d)
harness_pid=
trap '[ -n "$harness_pid" ] && kill -KILL "$harness_pid" 2>/dev/null; ip link set "$TESTBED_NETDEV" up 2>/dev/null; rm -rf "$scratch"' EXIT
failures=0
fail() {
    echo "FAIL: interruption $i: $*"
    failures=$((failures + 1))
}
# Process starts are slow under emulation: the loops below use bash built-ins only.
read_clock() { now=$((${EPOCHREALTIME/./} / 1000)); } # sets $now, in ms, without a subshell
exec {never_ready}<> <(:) # a pipe we hold both ends of: a read on it only times out
pause() { read -r -t 0.05 -u "$never_ready" || true; }
# Sets $netdevs (every netdev's name) and $bed_up (yes when the test bed's netdev is up
# and its rxe port ACTIVE) from one `ip` and one sysfs read; $rdma_links from one `rdma`.
look_at_links() {
    local name flags rest port_state=
    netdevs=
    bed_up=no
    while read -r _ name flags rest; do
        name=${name%:}
        netdevs+="$name "
        if [ "$name" = "$TESTBED_NETDEV" ] && [[ $flags == *[\<,]UP[,\>]* ]]; then
            read -r port_state < "/sys/class/infiniband/$TESTBED_RDMA_DEVICE/ports/1/state"
            [[ $port_state == *ACTIVE* ]] && bed_up=yes
        fi
    done < <(ip -o link show)
    rdma_links=$(rdma link show)
}
look_at_links
netdevs_before=$netdevs
rdma_before=$rdma_links
slowest=0
shopt -s nullglob dotglob

for i in $(seq 1 "$count"); do
    delay_ms=$((200 + RANDOM % (latest_ms - 200)))
    signal=INT
    [ $((RANDOM % 2)) -eq 1 ] && signal=TERM
    results="$scratch/results-$i"
    output="$scratch/out-$i"
    # Each run starts with another scenario file, so signals land in every one of them.
    first=$(((i - 1) % ${#scenarios[@]}))
    ordered=("${scenarios[@]:first}" "${scenarios[@]:0:first}")
    # Job control on for the start, so the harness is its own process group and does not
    # inherit the SIGINT a script's background job ignores: as from a terminal.
    set -m
    "$harness" inside run --results "$results" "${ordered[@]}" > "$output" 2>&1 &
    harness_pid=$!
    set +m
    read_clock
    launched=$now
    until [ -s "$output" ] || ! kill -0 "$harness_pid" 2>/dev/null || [ $((now - launched)) -gt 60000 ]; do
        pause
        read_clock
    done
    started=$now
    while [ $((now - started)) -lt "$delay_ms" ] && kill -0 "$harness_pid" 2>/dev/null; do
        pause
        read_clock
    done
    ended_before=no
    kill -0 "$harness_pid" 2>/dev/null || ended_before=yes
    read_clock
    signalled=$now
    kill -"$signal" "$harness_pid" 2>/dev/null
    status=
    while [ $((now - signalled)) -lt 60000 ]; do
        if ! kill -0 "$harness_pid" 2>/dev/null; then
            wait "$harness_pid"
            status=$?
            break
        fi
        pause
        read_clock
    done
    read_clock
    took=$((now - signalled))
    [ "$took" -gt "$slowest" ] && slowest=$took
    last_line=
    reported=0
    while IFS= read -r line; do
        case "$line" in
        "ok "* | KNOWN* | UNEXPECTED*)
            reported=$((reported + 1))
            last_line=$line
            ;;
        fault:* | results:*) last_line=$line ;;
        esac
    done < "$output"
    echo "interruption $i: SIG$signal $((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000))) s" \
        "after its first line (last: ${last_line:0:80}) -> exit ${status:-none} in $took ms"
    failures_before=$failures
    if [ -z "$status" ]; then
        fail "the harness still ran 60 s after SIG$signal"
        kill -KILL "$harness_pid"
        wait "$harness_pid" 2>/dev/null
    elif [ "$ended_before" = no ] && [ "$status" -ne 130 ]; then
        fail "exit $status after SIG$signal, not 130"
    fi
    harness_pid=
    # No process of ours left: one look at the process table.
    while read -r pid name arguments; do
        case "$name/$arguments" in
        valkey-server/* | gdb/* | *"$harness inside run"*)
            fail "process left: $pid $name $arguments"
            kill -KILL "$pid" 2>/dev/null
            ;;
        esac
    done < <(ps -eo pid=,comm=,args=)
    look_at_links
    if [ "$bed_up" != yes ]; then
        fail "$TESTBED_NETDEV or $TESTBED_RDMA_DEVICE is not up"
        ip link set "$TESTBED_NETDEV" up
    fi
    [ "$netdevs" = "$netdevs_before" ] || fail "the netdevs changed: $netdevs"
    [ "$rdma_links" = "$rdma_before" ] || fail "the rdma links changed: $rdma_links"
    # Every finished case the harness reported is in a summary.json, and nothing more;
    # no temporary or half-written file (their names start with a dot) is left.
    recorded=0
    for folder in "$results"/*; do
        # results/latest is a link to one of the run folders: counted once, as a folder.
        [ -L "$folder" ] && continue
        for file in "$folder"/.*; do
            case "$file" in */. | */..) ;; *) fail "file left behind: $file" ;; esac
        done
        [ -f "$folder/summary.json" ] || continue
        if ! cases=$(jq '.cases | length' "$folder/summary.json" 2>/dev/null); then
            fail "$folder/summary.json does not parse"
            continue
        fi
        recorded=$((recorded + cases))
    done
    [ "$recorded" -eq "$reported" ] ||
        fail "$reported case(s) reported finished, $recorded recorded in summary.json"
    if [ "$failures" -gt "$failures_before" ]; then
        echo "  --- the harness's output (interruption $i) ---"
        sed 's/^/  /' "$output" | tail -40
    fi
done
# Interrupted flaps must not leave rxe unable to set up connections (the harness keeps
# every connection open until the link is back): a fresh server and connection must work.
if ! rdma_device_works; then
    fail "the test bed accepts no RDMA connection after the interruptions"
    rdma_device_recreate
fi
echo "slowest exit after a signal: $slowest ms"
[ "$failures" -eq 0 ] && echo "PASS: $count interruptions (seed $seed), nothing left behind"
exit $((failures > 0))
