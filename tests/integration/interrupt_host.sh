#!/bin/bash
# Host side: Ctrl-C (SIGINT to the whole process group, as a terminal sends it) or SIGTERM
# at seeded random moments of `./run.sh run`, COUNT times; the first one lands during the
# VM boot. After each: exit 130 within 60 s, no process of that run left (its qemu, its
# helpers, anything in its process group), its request folder under the cache's runs/
# removed, no native rxe link or netdev left, every summary.json written parses, and no
# temporary file of a write the VM's end cut short is left in the results.
# INTERRUPT_SEED=N replays a schedule. The full check of the issue is COUNT=20:
#   tests/integration/interrupt_host.sh . 20
# Usage: interrupt_host.sh REPO [COUNT]
set -u
shopt -s nullglob
root=$(cd "$1" && pwd)
count=${2:-3}
seed=${INTERRUPT_SEED:-$(date +%s)}
RANDOM=$seed
echo "seed: $seed (replay: INTERRUPT_SEED=$seed)"
cache=${VALKEY_RDMA_HARNESS_CACHE:-$HOME/.cache/valkey-rdma-harness}
scratch=$(mktemp -d)
run_pid=
trap '[ -n "$run_pid" ] && kill -KILL -- -"$run_pid" 2>/dev/null; rm -rf "$scratch"' EXIT
failures=0
fail() {
    echo "FAIL: interruption $i: $*"
    failures=$((failures + 1))
}
now_ms() { date +%s%3N; }
# The processes of one run: its process group, and anything naming its request folder
# (qemu runs in a process group of its own).
processes_of() { # PID
    {
        ps -o pid= -g "$1" 2>/dev/null
        pgrep -f "runs/run-$1-" 2>/dev/null
    } | tr -d ' ' | sort -u | grep -v "^$$\$"
}
slowest=0
for i in $(seq 1 "$count"); do
    signal=INT
    if [ "$i" -eq 1 ]; then
        after_boot_ms=1500 # qemu started, the guest still booting
        where="during the VM boot"
    else
        # After qemu starts: about 20 s of boot, then about 30 s of scenarios.
        after_boot_ms=$((3000 + RANDOM % 45000))
        [ $((RANDOM % 2)) -eq 1 ] && signal=TERM
        where="$((after_boot_ms / 1000)) s after qemu started"
    fi
    results="$scratch/results-$i"
    # Job control on for the start: ./run.sh gets a process group of its own and does not
    # inherit the SIGINT a script's background job ignores, as when started from a terminal.
    set -m
    "$root/run.sh" run --results "$results" "$root/tests/integration/interrupt-load.yaml" \
        "$root/tests/integration/interrupt-stall.yaml" > "$scratch/out-$i" 2>&1 &
    run_pid=$!
    set +m
    started=$(now_ms)
    until pgrep -f "runs/run-$run_pid-" > /dev/null; do
        if ! kill -0 "$run_pid" 2>/dev/null || [ $(($(now_ms) - started)) -gt 300000 ]; then
            fail "no test bed VM started: $(tail -3 "$scratch/out-$i")"
            break
        fi
        sleep 0.1
    done
    booted=$(now_ms)
    while [ $(($(now_ms) - booted)) -lt "$after_boot_ms" ] && kill -0 "$run_pid" 2>/dev/null; do
        sleep 0.05
    done
    ended_before=no
    kill -0 "$run_pid" 2>/dev/null || ended_before=yes
    signalled=$(now_ms)
    if [ "$signal" = INT ]; then
        kill -INT -- -"$run_pid" 2>/dev/null # the terminal's Ctrl-C: the whole group
    else
        kill -TERM "$run_pid" 2>/dev/null
    fi
    status=
    while [ $(($(now_ms) - signalled)) -lt 60000 ]; do
        if ! kill -0 "$run_pid" 2>/dev/null; then
            wait "$run_pid"
            status=$?
            break
        fi
        sleep 0.05
    done
    took=$(($(now_ms) - signalled))
    [ "$took" -gt "$slowest" ] && slowest=$took
    folders=("$results"/*-*)
    echo "interruption $i: SIG$signal $where -> exit ${status:-none} in $took ms;" \
        "${#folders[@]} run folder(s), $(grep -cE '^(ok|KNOWN|UNEXPECTED) ' "$scratch/out-$i") case(s) finished"
    if [ -z "$status" ]; then
        fail "./run.sh still ran 60 s after SIG$signal"
    elif [ "$ended_before" = no ] && [ "$status" -ne 130 ]; then
        fail "exit $status after SIG$signal, not 130: $(tail -3 "$scratch/out-$i")"
    fi
    sleep 0.5 # the kernel's last reaping of what a SIGKILL ended
    left=$(processes_of "$run_pid")
    if [ -n "$left" ]; then
        fail "processes left: $(ps -o pid=,comm= -p "$(echo "$left" | tr '\n' ',' | sed 's/,$//')")"
        echo "$left" | xargs -r kill -KILL 2>/dev/null
    fi
    # An array, not `ls`: with nullglob an unmatched pattern leaves ls no argument, and
    # ls then lists ".".
    stale=("$cache/runs/run-$run_pid"-*)
    [ "${#stale[@]}" -eq 0 ] || fail "request folder left: ${stale[*]}"
    # What a native rxe test bed makes (harness/testbed.c); a VM makes nothing here.
    ip link show vkrdma0 > /dev/null 2>&1 && fail "netdev vkrdma0 left"
    [ -d /sys/class/infiniband/vkrxe0 ] && fail "rxe link vkrxe0 left"
    for summary in "$results"/*/summary.json; do
        [ -f "$summary" ] || continue
        jq -e '.cases | type == "array"' "$summary" > /dev/null 2>&1 || fail "$summary does not parse"
    done
    leftovers=$(find "$results" -name '.*' 2>/dev/null)
    [ -z "$leftovers" ] || fail "files left behind in the results: $leftovers"
    run_pid=
done
echo "slowest exit after a signal: $slowest ms"
[ "$failures" -eq 0 ] && echo "PASS: $count interruptions of ./run.sh run (seed $seed), nothing left behind"
exit $((failures > 0))
