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
# Signals land uniformly in [0.2 s, LATEST_MS]: one scenario file takes 10 to 20 s under
# emulation and each run starts with another one, so most signals land mid-run.
latest_ms=20000
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
now_ms() { date +%s%3N; }
links_before=$(ip -o link show | awk -F': ' '{print $2}' | sort | tr '\n' ' ')
rdma_before=$(rdma link show | awk '{print $2}' | sort | tr '\n' ' ')
slowest=0

for i in $(seq 1 "$count"); do
    delay_ms=$((200 + RANDOM % (latest_ms - 200)))
    signal=INT
    [ $((RANDOM % 2)) -eq 1 ] && signal=TERM
    results="$scratch/results-$i"
    # Each run starts with another scenario file, so signals land in every one of them.
    first=$(((i - 1) % ${#scenarios[@]}))
    ordered=("${scenarios[@]:first}" "${scenarios[@]:0:first}")
    # Job control on for the start, so the harness is its own process group and does not
    # inherit the SIGINT a script's background job ignores: as from a terminal.
    set -m
    "$harness" inside run --results "$results" "${ordered[@]}" > "$scratch/out-$i" 2>&1 &
    harness_pid=$!
    set +m
    started=$(now_ms)
    while [ $(($(now_ms) - started)) -lt "$delay_ms" ] && kill -0 "$harness_pid" 2>/dev/null; do
        sleep 0.05
    done
    ended_before=no
    kill -0 "$harness_pid" 2>/dev/null || ended_before=yes
    signalled=$(now_ms)
    kill -"$signal" "$harness_pid" 2>/dev/null
    status=
    while [ $(($(now_ms) - signalled)) -lt 60000 ]; do
        if ! kill -0 "$harness_pid" 2>/dev/null; then
            wait "$harness_pid"
            status=$?
            break
        fi
        sleep 0.05
    done
    took=$(($(now_ms) - signalled))
    [ "$took" -gt "$slowest" ] && slowest=$took
    last_line=$(grep -E '^(fault:|results:|ok |KNOWN|UNEXPECTED)' "$scratch/out-$i" | tail -1 | cut -c1-90)
    echo "interruption $i: SIG$signal after $((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000))) s" \
        "(last: ${last_line:-nothing yet}) -> exit ${status:-none} in $took ms"
    failures_before=$failures
    if [ -z "$status" ]; then
        fail "the harness still ran 60 s after SIG$signal"
        kill -KILL "$harness_pid"
        wait "$harness_pid" 2>/dev/null
    elif [ "$ended_before" = no ] && [ "$status" -ne 130 ]; then
        if [ "$status" -eq $((128 + $(kill -l "$signal"))) ] && [ ! -s "$scratch/out-$i" ]; then
            # The signal came before the harness had installed its handlers (a sanitizer
            # build takes seconds to start under emulation): it was killed by it having
            # started nothing, which the checks below confirm.
            echo "  (killed by SIG$signal before its handlers were installed; nothing started yet)"
        else
            fail "exit $status after SIG$signal, not 130"
        fi
    fi
    harness_pid=
    for program in valkey-server gdb; do
        if pgrep -x "$program" > /dev/null; then
            fail "a $program process is left: $(pgrep -a -x "$program" | head -2)"
            pkill -KILL -x "$program"
        fi
    done
    if pgrep -f "^$harness inside run" > /dev/null; then
        fail "a harness process is left: $(pgrep -a -f "^$harness inside run" | head -2)"
        pkill -KILL -f "^$harness inside run"
    fi
    link_is_up || fail "$TESTBED_NETDEV or $TESTBED_RDMA_DEVICE is not up"
    ip link set "$TESTBED_NETDEV" up
    [ "$(ip -o link show | awk -F': ' '{print $2}' | sort | tr '\n' ' ')" = "$links_before" ] ||
        fail "the netdevs changed: $(ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')"
    [ "$(rdma link show | awk '{print $2}' | sort | tr '\n' ' ')" = "$rdma_before" ] ||
        fail "the rdma links changed: $(rdma link show)"
    # Every finished case the harness reported is in a summary.json, and nothing more.
    reported=$(grep -cE '^(ok|KNOWN|UNEXPECTED) ' "$scratch/out-$i")
    recorded=0
    for summary in "$results"/*/summary.json; do
        # results/latest is a link to one of the run folders: counted once, as a folder.
        if [ ! -f "$summary" ] || [ -L "$(dirname "$summary")" ]; then
            continue
        fi
        if ! cases=$(jq '.cases | length' "$summary" 2>/dev/null); then
            fail "$summary does not parse"
            continue
        fi
        recorded=$((recorded + cases))
    done
    [ "$recorded" -eq "$reported" ] ||
        fail "$reported case(s) reported finished, $recorded recorded in summary.json"
    leftovers=$(find "$results" -name '.*' 2>/dev/null)
    [ -z "$leftovers" ] || fail "files left behind: $leftovers"
    if [ "$failures" -gt "$failures_before" ]; then
        echo "  --- the harness's output (interruption $i) ---"
        sed 's/^/  /' "$scratch/out-$i" | tail -40
    fi
    # A flap that went down while a connection was set up or torn down leaves rxe unable
    # to connect (see rdma_device_lib.sh): re-create it so the next run tests the rest.
    if grep -q '^fault: link_flap at' "$scratch/out-$i" && ! rdma_device_works; then
        echo "  (rxe sets up no new connection after that flap: re-creating $TESTBED_RDMA_DEVICE)"
        rdma_device_recreate || fail "cannot re-create $TESTBED_RDMA_DEVICE"
    fi
done
rdma_device_works || { rdma_device_recreate && rdma_device_works; } ||
    fail "the test bed accepts no RDMA connection at the end"
echo "slowest exit after a signal: $slowest ms"
[ "$failures" -eq 0 ] && echo "PASS: $count interruptions (seed $seed), nothing left behind"
exit $((failures > 0))
