#!/bin/bash
# Inside the test bed: the server under test compared with itself (A/A), 5 interleaved
# repetitions of a one-second TCP case, must give NO CHANGE and exit 0; the results folder
# must hold both sample arrays. This proves the machinery end to end (interleaving, the
# samples, the decision, the files); the statistic's own false-alarm and detection rates
# are proven by the simulations in tests/unit/test_ab_statistics.c. Five one-second
# repetitions under emulation can differ by 15% in their medians, so at the default 5%
# threshold about one A/A run in twenty would flag: the threshold here is 20%, which a
# comparison that mixed up its samples or its direction would still cross.
# Usage: compare_same_build.sh HARNESS SCENARIO
set -u
harness=$1
scenario=$2
spec=$VALKEY_SERVER
[ -n "${VALKEY_RDMA_MODULE:-}" ] && spec=$VALKEY_SERVER:$VALKEY_RDMA_MODULE
output=$("$harness" inside compare --baseline "$spec" --candidate "$spec" --repetitions 5 --threshold 20 \
    "$scenario" 2>&1)
status=$?
echo "$output"
[ "$status" -eq 0 ] || { echo "FAIL: compare of a build with itself exited $status"; exit 1; }
grep -q '^tiny-compare: NO CHANGE: ' <<<"$output" || { echo "FAIL: no NO CHANGE verdict"; exit 1; }
folder=$(sed -n 's/^results: //p' <<<"$output" | tail -1)
jq -e '.cases[0].comparison | (.baseline_samples | length) == 5 and
       (.candidate_samples | length) == 5 and .verdict == "NO CHANGE"' \
    "$folder/summary.json" > /dev/null || { echo "FAIL: $folder/summary.json"; exit 1; }
echo "PASS: the same build against itself gives NO CHANGE ($folder)"
