#!/bin/bash
# Inside the test bed, the regression gate proven both ways on a real RDMA load (issue 5):
# 1. the server under test against itself (A/A), 5 interleaved repetitions (the least
#    compare allows; CI time goes to the gate's scenarios): NO CHANGE,
#    exit 0, and both sample arrays in the results;
# 2. the same build with its server slowed on purpose (a cgroup limit of 20% of one CPU,
#    against the 60-100% it uses under this load): REGRESSION, exit 1, a median ratio
#    below 0.9, and the failure in junit.xml. 40% (ratio about 0.5) was not enough in
#    one clean-clone CI run of session 6: the machine was slow and noisy in that minute
#    (baseline 3,760 to 13,017 ops/s), the limited server gave 2,614 to 7,503, and five
#    a side could not tell them apart (p = 0.21). The gate's sensitivity to small
#    slow-downs is `./run.sh bench gate`'s to measure, not this test's.
# 3. the same build with its server stopped for 70 ms of every 100 (--candidate-pause
#    70, the bench gate's dial; it costs 1.1-1.2 times its share, so a ratio near 0.2:
#    50 gave 0.44-0.48, near the 0.5 that five a side could not tell from the session-6
#    noise above): REGRESSION, exit 1, a median ratio below 0.8, and the pause recorded
#    in summary.json (asked for, and the share each server was really stopped, measured).
# The threshold is 20%, not the default 5%: under emulation, one-second repetitions of
# the same build differ by more than 5% in one A/A run in ten or so (the false-alarm
# and detection rates at the defaults are measured by `./run.sh bench gate`, README).
# 10% was not enough either: the project's CI of session 11's code met an A/A compare on
# a slow, noisy machine (9,000-11,800 ops/s, a third of a quiet hour's) where every
# candidate repetition came out below its baseline: ratio 0.881, p 0.016, REGRESSION.
# Both slowed compares lose three quarters or more (ratios about 0.17 and 0.2), so 20%
# still separates them from the A/A by a wide margin.
# Usage: gate_compare.sh HARNESS SCENARIO
set -u
harness=$1
scenario=$2
spec=$VALKEY_SERVER
[ -n "${VALKEY_RDMA_MODULE:-}" ] && spec=$VALKEY_SERVER:$VALKEY_RDMA_MODULE
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

compare() { # OUTPUT ARGS...: runs one comparison; its exit status in $status
    local output=$1
    shift
    "$harness" inside compare --baseline "$spec" --candidate "$spec" --repetitions 5 \
        --threshold 20 "$@" "$scenario" > "$output" 2>&1
    status=$?
    cat "$output"
}

compare "$scratch/same.out"
[ "$status" -eq 0 ] || { echo "FAIL: compare of a build with itself exited $status"; exit 1; }
grep -q '^gate-compare: NO CHANGE: ' "$scratch/same.out" || { echo "FAIL: no NO CHANGE verdict"; exit 1; }
folder=$(sed -n 's/^results: //p' "$scratch/same.out" | tail -1)
jq -e '.cases[0].comparison | (.baseline_samples | length) == 5 and
       (.candidate_samples | length) == 5 and .verdict == "NO CHANGE" and
       (has("candidate_paused_share") | not)' \
    "$folder/summary.json" > /dev/null || { echo "FAIL: $folder/summary.json"; exit 1; }

# expect_regression NAME BOUND WHAT FLAG VALUE: a compare with the candidate slowed by
# FLAG VALUE gives REGRESSION, exit 1, a median ratio below BOUND and a junit failure;
# sets $ratio and $folder.
expect_regression() {
    local name=$1 bound=$2 what=$3 line
    compare "$scratch/$name.out" "$4" "$5"
    [ "$status" -eq 1 ] || { echo "FAIL: compare with $what exited $status, not 1"; exit 1; }
    line=$(grep '^gate-compare: REGRESSION: ' "$scratch/$name.out") ||
        { echo "FAIL: no REGRESSION verdict for $what"; exit 1; }
    ratio=$(sed -n 's/.*(ratio \([0-9.]*\),.*/\1/p' <<< "$line")
    awk -v r="$ratio" -v bound="$bound" 'BEGIN {exit !(r > 0 && r < bound)}' ||
        { echo "FAIL: median ratio $ratio with $what is not below $bound"; exit 1; }
    folder=$(sed -n 's/^results: //p' "$scratch/$name.out" | tail -1)
    grep -q '<failure' "$folder/junit.xml" ||
        { echo "FAIL: the regression with $what is not a junit failure"; exit 1; }
}

expect_regression slowed 0.9 "a server limited to 20% of a CPU" --candidate-cpu-limit 20
limited_ratio=$ratio
expect_regression paused 0.8 "a server stopped 70 ms of every 100" --candidate-pause 70
jq -e '.comparison.candidate_pause_percent == 70' "$folder/summary.json" > /dev/null ||
    { echo "FAIL: $folder/summary.json does not record the 70% pause"; exit 1; }
# What the pause achieved, measured by the harness: near 70% of each server's run.
jq -e '.cases[0].comparison.candidate_paused_share | length == 5 and all(. > 0.6 and . < 0.8)' \
    "$folder/summary.json" > /dev/null ||
    { echo "FAIL: $folder/summary.json: candidate_paused_share is not 5 shares near 0.7"; exit 1; }
echo "PASS: A/A gives NO CHANGE; the server at 20% of a CPU gives REGRESSION" \
    "(ratio $limited_ratio); stopped 70 ms of every 100, REGRESSION (ratio $ratio)"
