#!/bin/bash
# Inside the test bed: a server SIGSTOPped mid-run, two ways, with the evidence checked
# and not only the verdict.
#  1. Stopped for 9 s with a 5 s stall timeout (the CI gate's ci/fault-sigstop-stall.yaml):
#     STALL; its onset is the moment of the SIGSTOP (the last reply came just before it),
#     it is declared one stall timeout later, every connection is named as wedged, no
#     thread spins, the TCP PING probe went unanswered (the whole process is frozen), the
#     server was running (not crashed), and stacks were attempted.
#  2. Stopped for 2 s, inside the stall timeout (faults/sigstop-resume-pass.yaml): after
#     SIGCONT every connection resumes and the load runs to its end: PASS, replies after
#     the SIGCONT on every connection, no connection failed, and the fault timeline shows
#     the stop and the continue 2 s apart.
# Usage: fault_evidence.sh HARNESS REPO
set -u
harness=$1
repo=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# shellcheck source=tests/integration/check_lib.sh
. "$(dirname "$0")/check_lib.sh"
check() { # DESCRIPTION JQ_FILTER SUMMARY: the filter must print true
    local result
    result=$(jq -r "$2" "$3" 2>&1)
    if [ "$result" = true ]; then
        echo "ok: $1"
    else
        fail "$1 ($2 gave: $result)"
    fi
}

"$harness" inside run --results "$scratch/results" "$repo/scenarios/ci/fault-sigstop-stall.yaml" \
    "$repo/scenarios/faults/sigstop-resume-pass.yaml" > "$scratch/run.out" 2>&1
status=$?
cat "$scratch/run.out"
[ "$status" -eq 0 ] || fail "the harness exited $status, not 0"

folders=("$scratch"/results/*-fault-sigstop)
stall=${folders[0]}/summary.json
folders=("$scratch"/results/*-fault-sigstop-resume)
resume=${folders[0]}/summary.json
[ -f "$stall" ] || fail "no summary.json for fault-sigstop"
[ -f "$resume" ] || fail "no summary.json for fault-sigstop-resume"

if [ -f "$stall" ]; then
    c='.cases[0]'
    check "stopped 9 s: STALL, as expected" "$c.verdict == \"stall\" and $c.outcome == \"as expected\"" "$stall"
    check "the fault timeline has the SIGSTOP" "($c.fault_timeline.applied_s | type) == \"number\"" "$stall"
    check "onset within 0.5 s of the SIGSTOP" \
        "($c.evidence.onset_s - $c.fault_timeline.applied_s) | fabs < 0.5" "$stall"
    check "declared one stall timeout (5 s) after the onset, within 1 s" \
        "($c.evidence.detected_s - $c.evidence.onset_s - 5) | fabs < 1" "$stall"
    check "declared before the SIGCONT was due (a frozen server, not a slow one)" \
        "$c.evidence.detected_s < $c.fault_timeline.applied_s + 9" "$stall"
    check "both connections wedged and named" \
        "$c.evidence.wedged_connections == 2 and ($c.evidence.connections | length) == 2" "$stall"
    check "no thread spinning" "($c.evidence.threads | length) == 0" "$stall"
    check "the TCP PING went unanswered" "$c.evidence.probe == \"unanswered\"" "$stall"
    check "the server was running, not crashed" "$c.evidence.server == \"running\"" "$stall"
    check "stacks were attempted" "$c.stacks == \"stacks.txt\"" "$stall"
fi
if [ -f "$resume" ]; then
    c='.cases[0]'
    check "stopped 2 s: PASS, as expected" "$c.verdict == \"pass\" and $c.outcome == \"as expected\"" "$resume"
    check "SIGSTOP and SIGCONT 2 s apart (within 0.5 s)" \
        "($c.fault_timeline.cleared_s - $c.fault_timeline.applied_s - 2) | fabs < 0.5" "$resume"
    check "no connection failed" "$c.message | test(\"connection\") | not" "$resume"
    check "the load ran its 8 s after the pause" "$c.duration_s > 8" "$resume"
    # Every connection got replies after the SIGCONT: its reply count in progress.csv
    # grows after cleared_s (with 1 s of slack for the first reply).
    folder=$(dirname "$resume")
    cleared=$(jq -r "$c.fault_timeline.cleared_s" "$resume")
    for connection in 0 1; do
        before=$(awk -F, -v t="$cleared" -v c="connection $connection " \
            'index($3, c) == 1 && $1 <= t { n = $6 } END { print n + 0 }' "$folder/progress.csv")
        after=$(awk -F, -v t="$cleared" -v c="connection $connection " \
            'index($3, c) == 1 && $1 > t + 1 { n = $6 } END { print n + 0 }' "$folder/progress.csv")
        if [ "$after" -gt "$before" ]; then
            echo "ok: connection $connection: $before replies at the SIGCONT, $after later"
        else
            fail "connection $connection made no progress after the SIGCONT ($before, then $after)"
        fi
    done
fi
if [ "$failures" -gt 0 ]; then
    for summary in "$stall" "$resume"; do
        [ -f "$summary" ] && jq -c '.cases[0] | {verdict, message, evidence, fault_timeline}' "$summary"
    done
fi
pgrep -x valkey-server > /dev/null && fail "a valkey-server is still running"
[ "$failures" -eq 0 ] && echo "PASS: SIGSTOP and SIGCONT mid-run give the right verdicts and evidence"
exit $((failures > 0))
