#!/bin/bash
# Inside the test bed: server.fresh_per_case: false keeps one server while the cases'
# server settings match, empties it between cases, and starts a fresh one when they
# change; a planted fault (SIGKILL) is never followed by the same server.
# Usage: kept_server.sh HARNESS KEPT_SCENARIO
set -u
harness=$1
scenario=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

run() { # OUTPUT ARGS...: runs the harness, prints its results folder
    local output=$1
    shift
    "$harness" inside run "$@" > "$output" 2>&1
    local status=$?
    cat "$output" >&2
    [ "$status" -eq 0 ] || { echo "FAIL: inside run $* exited $status" >&2; exit 1; }
    sed -n 's/^results: //p' "$output" | tail -1
}

folder=$(run "$scratch/kept.out" "$scenario") || exit 1
started=$(jq -c '[.cases[].repetitions.servers_started]' "$folder/summary.json")
verdicts=$(jq -c '[.cases[].repetitions.verdicts[]] | unique' "$folder/summary.json")
echo "servers started per case: $started; verdicts: $verdicts"
[ "$started" = '[1,0,1,0]' ] ||
    { echo "FAIL: expected [1,0,1,0] servers started (kept across cases of one setting)"; exit 1; }
[ "$verdicts" = '["pass"]' ] || { echo "FAIL: a repetition was not PASS"; exit 1; }
kept=$(grep -c "(kept server.*) ===" "$folder/server.log")
[ "$kept" -eq 8 ] || { echo "FAIL: server.log holds $kept kept-server sections, not 8"; exit 1; }

# The same file with a SIGKILL planted: every repetition crashes its server, so every
# repetition needs a fresh one (the kept server is never reused after a fault).
sed -e 's/^expect: pass$/expect: crash/' -e 's/^name: kept-server$/name: kept-fault/' "$scenario" > "$scratch/kept-fault.yaml"
cat >> "$scratch/kept-fault.yaml" <<'YAML'
fault:
  kind: sigkill
  after: 300ms
YAML
folder=$(run "$scratch/fault.out" --case 'kept-fault/rdma_rx_size=1MiB,value_size=1KiB' \
    "$scratch/kept-fault.yaml") || exit 1
started=$(jq -c '[.cases[].repetitions.servers_started]' "$folder/summary.json")
echo "with a SIGKILL planted, servers started: $started"
[ "$started" = '[2]' ] || { echo "FAIL: expected a fresh server after each crash ([2])"; exit 1; }
echo "PASS: one server kept per setting across cases; a fresh one after a fault"
