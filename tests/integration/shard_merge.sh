#!/bin/bash
# Inside the test bed: a suite run whole, and run as two shards merged back, give the same
# cases in the same order with the same verdicts and outcomes (issue 5's acceptance).
# Usage: shard_merge.sh HARNESS SCENARIO
set -u
harness=$1
scenario=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

run() { # LABEL ARGS...: runs the harness, prints its results folder
    local label=$1
    shift
    if ! "$harness" inside run "$@" > "$scratch/$label.out" 2>&1; then
        cat "$scratch/$label.out"
        echo "FAIL: inside run $* ($label) did not exit 0" >&2
        exit 1
    fi
    sed -n 's/^results: //p' "$scratch/$label.out" | tail -1
}

whole=$(run whole "$scenario")
first=$(run first --shard 1/2 "$scenario")
second=$(run second --shard 2/2 "$scenario")
merged=$(dirname "$whole")/$(basename "$whole")-merged-$$
# Shards given in the "wrong" order: the merge must restore the unsharded order itself.
if ! "$harness" merge "$second" "$first" --out "$merged" > "$scratch/merge.out" 2>&1; then
    cat "$scratch/merge.out"
    echo "FAIL: merge exited non-zero"
    exit 1
fi

verdicts() { jq -r '.cases[] | "\(.name) \(.verdict) \(.outcome)"' "$1/summary.json"; }
verdicts "$whole" > "$scratch/whole.txt"
verdicts "$merged" > "$scratch/merged.txt"
cases=$(wc -l < "$scratch/whole.txt")
for shard in "$first" "$second"; do
    [ "$(jq '.cases | length' "$shard/summary.json")" -lt "$cases" ] ||
        { echo "FAIL: shard $shard ran every case"; exit 1; }
done
if [ "$cases" -lt 2 ] || ! diff -u "$scratch/whole.txt" "$scratch/merged.txt"; then
    echo "FAIL: the merged shards differ from the whole run (or ran fewer than 2 cases)"
    exit 1
fi
grep -q "<testcase" "$merged/junit.xml" || { echo "FAIL: no junit.xml in $merged"; exit 1; }
[ "$(grep -c . "$merged/cpu.csv")" -gt 1 ] || { echo "FAIL: empty cpu.csv in $merged"; exit 1; }
cat "$scratch/merged.txt"
echo "PASS: $cases cases, whole and sharded 1/2 + 2/2 merged agree ($merged)"
