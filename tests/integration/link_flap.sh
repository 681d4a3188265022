#!/bin/bash
# Inside the test bed: the link_flap fault. scenarios/faults/link-flap-stall.yaml takes
# the test bed's netdev down for 3 s, 2 s into a busy 4-connection RDMA load (connections
# mostly wedge); link-flap-lost.yaml does the same under a slow load (connections mostly
# told at once, and torn down: the case that breaks rxe unless the harness holds them).
# What was measured on rxe (Linux 6.1) and is checked here:
#  - The server survives (no CRASH) and keeps answering TCP; each RDMA connection live
#    across the flap is lost one of two ways, at random: it sent during the down and
#    fails at once ("local QP operation error"), or its reply was lost and it waits for
#    ever (the server marks the connection errored and never closes it). The scenario
#    expects STALL (at least one connection wedged; the wedge must begin at the flap,
#    not before) or PASS (every lost connection was told at once; the message names
#    them as lost to the link flap). Anything else fails this test.
#  - The link is up and the rxe port ACTIVE again after the run, and no server is left.
#  - A new RDMA connection works once the link is back (the harness checks it on the
#    same server: fault_timeline.reconnect "ok"; this test checks the device again with
#    a fresh server). rxe stops setting up connections after a connection was set up or
#    torn down while its link was down; the harness holds every connection open until
#    the link is back, so that must not happen. Should it still, the device is
#    re-created so that the tests after this one find a working test bed, and this
#    test fails.
# Usage: link_flap.sh HARNESS VALKEY_LOAD SCENARIO...
set -u
harness=$1
load=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/rdma_device_lib.sh
. "$here/rdma_device_lib.sh"
scratch=$(mktemp -d)
trap 'ip link set "$TESTBED_NETDEV" up 2>/dev/null; rm -rf "$scratch"' EXIT
# shellcheck source=tests/integration/check_lib.sh
. "$(dirname "$0")/check_lib.sh"
check() { # DESCRIPTION JQ_FILTER: the filter must print true
    local result
    result=$(jq -r "$2" "$summary" 2>&1)
    if [ "$result" = true ]; then
        echo "ok: $1"
    else
        fail "$1 ($2 gave: $result)"
    fi
}

for scenario in "$@"; do
    echo "=== $scenario"
    rm -rf "$scratch/results"
    "$harness" inside run --results "$scratch/results" "$scenario" > "$scratch/run.out" 2>&1
    status=$?
    cat "$scratch/run.out"
    folders=("$scratch"/results/*-fault-link-flap*)
    summary=${folders[0]}/summary.json
    if [ ! -f "$summary" ]; then
        fail "no summary.json (harness exit $status)"
        continue
    fi
    c='.cases[0]'
    check "the link went down and came back" \
        "($c.fault_timeline.applied_s | type) == \"number\" and $c.fault_timeline.cleared_s >= $c.fault_timeline.applied_s" \
        "$summary"
    check "it came back within its 3 s (0.6 s slack)" \
        "$c.fault_timeline.cleared_s - $c.fault_timeline.applied_s < 3.6" "$summary"
    verdict=$(jq -r "$c.verdict" "$summary")
    [ "$status" -eq 0 ] || fail "the harness exited $status, not 0"
    check "the case is as expected (STALL or PASS)" "$c.outcome == \"as expected\"" "$summary"
    check "its expectation is STALL or PASS" "$c.expected == \"STALL or PASS\" or $c.expected == \"PASS or STALL\"" "$summary"
    case "$verdict" in
    stall)
        echo "outcome: at least one connection wedged by the flap"
        check "the link stayed down its 3 s (the load was still running)" \
            "$c.fault_timeline.cleared_s - $c.fault_timeline.applied_s > 2.5" "$summary"
        check "the wedge began at the flap, not before it" \
            "$c.evidence.onset_s > $c.fault_timeline.applied_s - 0.3" "$summary"
        check "wedged connections named" "($c.evidence.connections | length) >= 1" "$summary"
        check "no thread spinning" "($c.evidence.threads | length) == 0" "$summary"
        check "the server answered the TCP PING" "$c.evidence.probe == \"answered\"" "$summary"
        check "the server was running, not crashed" "$c.evidence.server == \"running\"" "$summary"
        ;;
    pass)
        echo "outcome: no connection wedged; the lost ones were told at once"
        check "connections lost to the flap, named with their error" \
            "$c.message | test(\"connection\\\\(s\\\\) lost to the link flap: connection [0-9]\")" \
            "$summary"
        ;;
    *)
        fail "verdict $verdict: neither outcome measured for a link flap"
        ;;
    esac
    [ "$failures" -gt 0 ] && jq -c "$c | {verdict, message, evidence, fault_timeline}" "$summary"
    check "a new RDMA connection worked after the flap" "$c.fault_timeline.reconnect == \"ok\"" \
        "$summary"
    if link_is_up; then
        echo "ok: $TESTBED_NETDEV is up and $TESTBED_RDMA_DEVICE port 1 is ACTIVE"
    else
        fail "$TESTBED_NETDEV or $TESTBED_RDMA_DEVICE is not back up"
    fi
    pgrep -x valkey-server > /dev/null && fail "a valkey-server is still running"
    if rdma_device_works; then
        echo "ok: a fresh server accepts a fresh RDMA connection after the flap"
    else
        fail "after the flap rxe sets up no new RDMA connection; re-creating $TESTBED_RDMA_DEVICE"
        if rdma_device_recreate && rdma_device_works; then
            echo "re-created: the test bed accepts RDMA connections again"
        else
            fail "the test bed accepts no RDMA connection even after re-creating the device"
        fi
    fi
done
[ "$failures" -eq 0 ] && echo "PASS: the link flap was reported as measured and the test bed is usable"
exit $((failures > 0))
